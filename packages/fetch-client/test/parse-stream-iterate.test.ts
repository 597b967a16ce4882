import { parseEventStream, type ServerSentEvent } from '@ssekit/fetch-client'
import { describe, expect, it } from 'vitest'
import { recordingStream, withTimeout } from './_helpers.ts'
import { bytes } from './_vectors.ts'

// Audit item 8: iterating parseEventStream's result continues from the stream's own queue, and
// honours the standard `values()` options.

async function collect(iterable: AsyncIterable<ServerSentEvent>): Promise<string[]> {
  const data: string[] = []
  const reading = (async () => {
    for await (const event of iterable) data.push(event.data)
  })()
  await withTimeout(reading, 2000, 'the iteration ends')
  return data
}

describe('parseEventStream iterated after a reader', () => {
  it('yields the events a read left in the stream’s queue', async () => {
    const stream = parseEventStream(
      new Response('data: 1\n\ndata: 2\n\ndata: 3\n\n').body as ReadableStream<Uint8Array>,
    )
    const reader = stream.getReader()
    expect((await withTimeout(reader.read(), 2000, 'first read')).value?.data).toBe('1')
    reader.releaseLock()
    expect(await collect(stream)).toEqual(['2', '3'])
  })

  it('yields the queued events first, then reads the body', async () => {
    const { stream: body } = recordingStream([
      bytes('data: 1\n\ndata: 2\n\n'),
      bytes('data: 3\n\ndata: 4\n\n'),
      bytes('data: 5\n\n'),
    ])
    const stream = parseEventStream(body)
    const reader = stream.getReader()
    expect((await withTimeout(reader.read(), 2000, 'first read')).value?.data).toBe('1')
    reader.releaseLock()
    expect(await collect(stream)).toEqual(['2', '3', '4', '5'])
  })

  it('hands over to a reader after a break with preventCancel, without losing an event', async () => {
    const { stream: body, record } = recordingStream([
      bytes('data: 1\n\ndata: 2\n\n'),
      bytes('data: 3\n\n'),
    ])
    const stream = parseEventStream(body)
    for await (const event of stream.values({ preventCancel: true })) {
      expect(event.data).toBe('1')
      break
    }
    expect(record.cancelled).toBe(false)
    expect(stream.locked).toBe(false)
    const reader = stream.getReader()
    expect((await withTimeout(reader.read(), 2000, 'second read')).value?.data).toBe('2')
    reader.releaseLock()
    expect(await collect(stream)).toEqual(['3'])
  })
})

describe('parseEventStream values() options', () => {
  it('does not cancel the body on break with preventCancel', async () => {
    const { stream: body, record } = recordingStream([bytes('data: 1\n\n')], { endless: true })
    const stream = parseEventStream(body)
    for await (const event of stream.values({ preventCancel: true })) {
      expect(event.data).toBe('1')
      break
    }
    expect(record.cancelled).toBe(false)
  })

  it('cancels the body on break without it, with values() as with for await', async () => {
    const { stream: body, record } = recordingStream([bytes('data: 1\n\n')], { endless: true })
    for await (const event of parseEventStream(body).values()) {
      expect(event.data).toBe('1')
      break
    }
    expect(record.cancelled).toBe(true)
  })

  it('cancels the stream itself, so a later read is done', async () => {
    const { stream: body, record } = recordingStream([bytes('data: 1\n\ndata: 2\n\n')], {
      endless: true,
    })
    const stream = parseEventStream(body)
    for await (const _ of stream) break
    expect(record.cancelled).toBe(true)
    expect(await withTimeout(stream.getReader().read(), 2000, 'read')).toEqual({
      done: true,
      value: undefined,
    })
  })
})

describe('parseEventStream with next() calls made at the same time', () => {
  it('answers them in call order, as a ReadableStream iterator does', async () => {
    const chunks = ['data: par', 'tial-1\n\n', 'data: 2\n\n', 'data: 3\n\n']
    let index = 0
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          await new Promise((resolve) => setTimeout(resolve, 5))
          const chunk = chunks[index++]
          if (chunk === undefined) controller.close()
          else controller.enqueue(bytes(chunk))
        },
      },
      { highWaterMark: 0 },
    )
    const iterator = parseEventStream(body)[Symbol.asyncIterator]()
    const results = await withTimeout(
      Promise.all([iterator.next(), iterator.next(), iterator.next(), iterator.next()]),
      2000,
      'four next() calls',
    )
    expect(results.map((result) => (result.done ? 'done' : result.value.data))).toEqual([
      'partial-1',
      '2',
      '3',
      'done',
    ])
  })
})
