import { SseError } from '@ssekit/core'
import {
  EventStreamParserStream,
  parseEventStream,
  type ServerSentEvent,
} from '@ssekit/fetch-client'
import { describe, expect, it } from 'vitest'
import { eventually, recordingStream, withTimeout } from './_helpers.ts'
import { bytes, specVectors, wptVectors } from './_vectors.ts'

async function collect(iterable: AsyncIterable<ServerSentEvent>): Promise<ServerSentEvent[]> {
  const out: ServerSentEvent[] = []
  for await (const event of iterable) out.push({ ...event })
  return out
}

describe('parseEventStream', () => {
  it.each(
    [...wptVectors, ...specVectors]
      .filter((vector) => vector.bodies.length === 1)
      .map((v) => [v.name, v] as const),
  )('%s, byte by byte through a ReadableStream', async (_name, vector) => {
    const body = vector.bodies[0] as Uint8Array
    const { stream } = recordingStream(Array.from(body, (byte) => Uint8Array.of(byte)))
    const events = await withTimeout(collect(parseEventStream(stream)), 5000, vector.name)
    expect(events).toEqual(vector.events)
  })

  it('reads with getReader() as well as for await', async () => {
    const stream = parseEventStream(
      new Response('data: a\n\ndata: b\n\nid: 3\ndata: c\n\n').body as ReadableStream<Uint8Array>,
    )
    const reader = stream.getReader()
    const data: string[] = []
    for (;;) {
      const { done, value } = await withTimeout(reader.read(), 2000, 'read')
      if (done) break
      data.push(`${value.data}/${value.lastEventId}`)
    }
    expect(data).toEqual(['a/', 'b/', 'c/3'])
  })

  it('pulls the body only when the consumer asks for more', async () => {
    const chunks = Array.from({ length: 100 }, (_, index) => bytes(`data: ${index}\n\n`))
    const { stream, record } = recordingStream(chunks)
    const iterator = parseEventStream(stream)[Symbol.asyncIterator]()
    const first = await withTimeout(iterator.next(), 2000, 'first event')
    expect(first.value?.data).toBe('0')
    expect(record.pulls).toBeLessThanOrEqual(2)
    await iterator.return?.()
    expect(record.cancelled).toBe(true)
  })

  it('cancels the body on break', async () => {
    const { stream, record } = recordingStream([bytes('data: a\n\n')], { endless: true })
    for await (const event of parseEventStream(stream)) {
      expect(event.data).toBe('a')
      break
    }
    expect(record.cancelled).toBe(true)
  })

  it('locks the stream while iterating', async () => {
    const events = parseEventStream(new Response('data: a\n\n').body as ReadableStream<Uint8Array>)
    const iterator = events[Symbol.asyncIterator]()
    expect(events.locked).toBe(true)
    expect((await iterator.next()).value?.data).toBe('a')
    expect((await iterator.next()).done).toBe(true)
    expect(events.locked).toBe(false)
  })

  it('errors with a typed limit error and cancels the body', async () => {
    const { stream, record } = recordingStream([bytes(`data: ${'x'.repeat(500)}`)], {
      endless: true,
    })
    const error = await collect(parseEventStream(stream, { maxLineBytes: 100 })).catch(
      (caught) => caught,
    )
    expect(SseError.isInstance(error) && error.code).toBe('line-too-long')
    expect(record.cancelled).toBe(true)
    expect(record.reason).toBe(error)
  })

  it('passes a failing body’s error through', async () => {
    const failure = new Error('boom')
    let pulls = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulls++ === 0) controller.enqueue(bytes('data: a\n\n'))
        else controller.error(failure)
      },
    })
    const seen: string[] = []
    await expect(
      (async () => {
        for await (const event of parseEventStream(body)) seen.push(event.data)
      })(),
    ).rejects.toBe(failure)
    expect(seen).toEqual(['a'])
  })

  it('calls onId, onRetry and onComment', async () => {
    const seen: string[] = []
    const events = parseEventStream(
      new Response(': hi\nretry: 10\nid: 5\n\n').body as ReadableStream<Uint8Array>,
      {
        onId: (id) => seen.push(`id ${id}`),
        onRetry: (ms) => seen.push(`retry ${ms}`),
        onComment: (comment) => seen.push(`comment ${comment}`),
      },
    )
    expect(await collect(events)).toEqual([])
    expect(seen).toEqual(['comment hi', 'retry 10', 'id 5'])
  })

  it('rejects a body that is not a stream with a TypeError', () => {
    // @ts-expect-error null body
    expect(() => parseEventStream(null)).toThrow(/response without a body/)
  })
})

describe('EventStreamParserStream', () => {
  it('parses through pipeThrough', async () => {
    const { stream } = recordingStream(
      Array.from(bytes('data: a\r\n\r\nevent: x\ndata: b\n\n'), (byte) => Uint8Array.of(byte)),
    )
    const events = await collect(stream.pipeThrough(new EventStreamParserStream()))
    expect(events).toEqual([
      { type: 'message', data: 'a', lastEventId: '', id: undefined },
      { type: 'x', data: 'b', lastEventId: '', id: undefined },
    ])
  })

  it('errors on a limit and cancels the source', async () => {
    const { stream, record } = recordingStream([bytes(`data: ${'x'.repeat(500)}`)], {
      endless: true,
    })
    const error = await collect(
      stream.pipeThrough(new EventStreamParserStream({ maxLineBytes: 100 })),
    ).catch((caught) => caught)
    expect(SseError.isInstance(error) && error.code).toBe('line-too-long')
    await eventually(() => record.cancelled, 2000, 'the source is cancelled')
  })
})
