import { SseError } from '@ssekit/core'
import {
  EventStreamParserStream,
  type ParseEventStreamOptions,
  parseEventStream,
} from '@ssekit/fetch-client'
import { describe, expect, it } from 'vitest'
import { eventually, recordingStream, withTimeout } from './_helpers.ts'
import { bytes } from './_vectors.ts'

// Audit item 7: the events dispatched before a limit was passed are delivered, then the typed
// error, however the bytes are chunked; the body is cancelled either way.

const complete = 'data: a\n\ndata: b\n\n'
const cases: { name: string; tail: string; options: ParseEventStreamOptions; code: string }[] = [
  {
    name: 'line-too-long',
    tail: `data: ${'x'.repeat(200)}`,
    options: { maxLineBytes: 100 },
    code: 'line-too-long',
  },
  {
    name: 'event-too-large',
    tail: `data: ${'x'.repeat(40)}\ndata: ${'x'.repeat(40)}\n`,
    options: { maxEventBytes: 60 },
    code: 'event-too-large',
  },
]
const chunkings: { name: string; chunks: (tail: string) => string[] }[] = [
  { name: 'one chunk', chunks: (tail) => [complete + tail] },
  { name: 'two chunks', chunks: (tail) => [complete, tail] },
  { name: 'the tail split', chunks: (tail) => [complete + tail.slice(0, 3), tail.slice(3)] },
]
const matrix = cases.flatMap((limit) =>
  chunkings.map((chunking) => ({
    label: `${limit.name}, ${chunking.name}`,
    chunks: chunking.chunks(limit.tail).map((chunk) => bytes(chunk)),
    options: limit.options,
    code: limit.code,
  })),
)

/** Reads `events` to its end or error, bounded; what it read and how it ended. */
async function drain(
  events: AsyncIterable<{ data: string }>,
): Promise<{ data: string[]; error: unknown }> {
  const data: string[] = []
  const reading = (async () => {
    for await (const event of events) data.push(event.data)
  })()
  const error = await withTimeout(reading, 2000, 'the stream ends').then(
    () => undefined,
    (caught: unknown) => caught,
  )
  return { data, error }
}

/** Reads with `getReader()`, bounded; what it read and how it ended. */
async function drainWithReader(
  stream: ReadableStream<{ data: string }>,
): Promise<{ data: string[]; error: unknown }> {
  const reader = stream.getReader()
  const data: string[] = []
  try {
    for (;;) {
      const { done, value } = await withTimeout(reader.read(), 2000, 'read')
      if (done) return { data, error: undefined }
      data.push(value.data)
    }
  } catch (error) {
    return { data, error }
  }
}

const codeOf = (error: unknown): unknown => (SseError.isInstance(error) ? error.code : error)

describe('parseEventStream on a limit', () => {
  it.each(matrix)('$label: for await gets the earlier events, then the error', async (entry) => {
    const { stream, record } = recordingStream(entry.chunks, { endless: true })
    const { data, error } = await drain(parseEventStream(stream, entry.options))
    expect(data).toEqual(['a', 'b'])
    expect(codeOf(error)).toBe(entry.code)
    expect(record.cancelled).toBe(true)
    expect(record.reason).toBe(error)
  })

  it.each(matrix)('$label: getReader() gets the earlier events, then the error', async (entry) => {
    const { stream, record } = recordingStream(entry.chunks, { endless: true })
    const { data, error } = await drainWithReader(parseEventStream(stream, entry.options))
    expect(data).toEqual(['a', 'b'])
    expect(codeOf(error)).toBe(entry.code)
    expect(record.cancelled).toBe(true)
  })

  it('cancels the body before the earlier events are read', async () => {
    const { stream, record } = recordingStream([bytes(`${complete}data: ${'x'.repeat(200)}`)], {
      endless: true,
    })
    const iterator = parseEventStream(stream, { maxLineBytes: 100 })[Symbol.asyncIterator]()
    expect((await withTimeout(iterator.next(), 2000, 'first event')).value?.data).toBe('a')
    expect(record.cancelled).toBe(true)
    expect((await iterator.next()).value?.data).toBe('b')
    await expect(iterator.next()).rejects.toSatisfy((error) => codeOf(error) === 'line-too-long')
    expect(await iterator.next()).toEqual({ done: true, value: undefined })
  })

  it('leaves the stream errored after for await threw', async () => {
    const events = parseEventStream(
      new Response(`${complete}data: ${'x'.repeat(200)}`).body as ReadableStream<Uint8Array>,
      { maxLineBytes: 100 },
    )
    const { error } = await drain(events)
    expect(codeOf(error)).toBe('line-too-long')
    await expect(events.getReader().read()).rejects.toBe(error)
  })
})

describe('EventStreamParserStream on a limit', () => {
  it.each(matrix)('$label: pipeThrough gets the earlier events, then the error', async (entry) => {
    const { stream, record } = recordingStream(entry.chunks, { endless: true })
    const { data, error } = await drain(
      stream.pipeThrough(new EventStreamParserStream(entry.options)),
    )
    expect(data).toEqual(['a', 'b'])
    expect(codeOf(error)).toBe(entry.code)
    await eventually(() => record.cancelled, 2000, 'the source is cancelled')
    expect(record.reason).toBe(error)
  })

  it('cancels the source before the earlier events are read', async () => {
    const { stream, record } = recordingStream([bytes(`${complete}data: ${'x'.repeat(200)}`)], {
      endless: true,
    })
    const reader = stream
      .pipeThrough(new EventStreamParserStream({ maxLineBytes: 100 }))
      .getReader()
    expect((await withTimeout(reader.read(), 2000, 'first event')).value?.data).toBe('a')
    await eventually(() => record.cancelled, 2000, 'the source is cancelled')
    expect((await withTimeout(reader.read(), 2000, 'second event')).value?.data).toBe('b')
    await expect(withTimeout(reader.read(), 2000, 'the error')).rejects.toSatisfy(
      (error) => codeOf(error) === 'line-too-long',
    )
  })

  it('errors without waiting for another chunk from a source that stalls', async () => {
    let sent = false
    let cancelled = false
    // After its one chunk the source never answers again, as a silent server would.
    const stalling = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (!sent) controller.enqueue(bytes(`${complete}data: ${'x'.repeat(200)}`))
          sent = true
        },
        cancel() {
          cancelled = true
        },
      },
      { highWaterMark: 0 },
    )
    const { data, error } = await drain(
      stalling.pipeThrough(new EventStreamParserStream({ maxLineBytes: 100 })),
    )
    expect(data).toEqual(['a', 'b'])
    expect(codeOf(error)).toBe('line-too-long')
    await eventually(() => cancelled, 2000, 'the source is cancelled')
  })

  it('rejects the write that passed the limit when used without a pipe', async () => {
    const parser = new EventStreamParserStream({ maxLineBytes: 100 })
    const writer = parser.writable.getWriter()
    const reader = parser.readable.getReader()
    const first = reader.read()
    const written = writer.write(bytes(`${complete}data: ${'x'.repeat(200)}`))
    expect((await withTimeout(first, 2000, 'first event')).value?.data).toBe('a')
    const error = await withTimeout(written, 2000, 'the write').catch((caught) => caught)
    expect(codeOf(error)).toBe('line-too-long')
    expect((await withTimeout(reader.read(), 2000, 'second event')).value?.data).toBe('b')
    await expect(withTimeout(reader.read(), 2000, 'the error')).rejects.toBe(error)
  })

  it('is still a TransformStream', () => {
    const parser = new EventStreamParserStream()
    expect(parser).toBeInstanceOf(TransformStream)
    expect(parser.readable).toBeInstanceOf(ReadableStream)
    expect(parser.writable).toBeInstanceOf(WritableStream)
  })
})
