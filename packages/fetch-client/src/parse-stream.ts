import { createEventReader } from './_event-reader.ts'
import { createParser } from './parse.ts'
import type { ParserOptions, ServerSentEvent } from './types.ts'

/**
 * Options of {@link parseEventStream} and {@link EventStreamParserStream}: the parser's callbacks
 * (but `onEvent`, since events are the stream's output) and limits.
 *
 * @example
 * ```ts
 * import { parseEventStream, type ParseEventStreamOptions } from '@ssekit/fetch-client'
 *
 * const options: ParseEventStreamOptions = { onRetry: (ms) => console.log(ms), maxEventBytes: 1 << 20 }
 * const events = parseEventStream(new Response('data: hi\n\n').body!, options)
 * ```
 * @public
 */
export type ParseEventStreamOptions = Omit<ParserOptions, 'onEvent' | 'onError'>

/**
 * A `ReadableStream` of events that is also an `AsyncIterable` in every runtime (even where
 * `ReadableStream` lacks `Symbol.asyncIterator`, as in older Safari).
 *
 * @example
 * ```ts
 * import { parseEventStream, type EventStream } from '@ssekit/fetch-client'
 *
 * const events: EventStream = parseEventStream(new Response('data: hi\n\n').body!)
 * for await (const event of events) console.log(event.data)
 * ```
 * @public
 */
export type EventStream = ReadableStream<ServerSentEvent> & AsyncIterable<ServerSentEvent>

/**
 * Parses a `text/event-stream` body into a stream of {@link ServerSentEvent}s. One read loop feeds
 * the synchronous parser (no chain of `TextDecoderStream` and parser `TransformStream`s), and the
 * body is read only when the consumer asks for the next event. `for await` over the result takes a
 * faster path than `getReader()` with the same semantics: `break` cancels the body.
 *
 * A limit error (`line-too-long`, `event-too-large`) cancels the body and errors the stream.
 *
 * @param body - the response body, e.g. `response.body`.
 * @param options - parser callbacks (`onId`, `onRetry`, `onComment`) and limits.
 * @throws TypeError when `body` is not a `ReadableStream`.
 *
 * @example
 * ```ts
 * import { parseEventStream } from '@ssekit/fetch-client'
 *
 * const response = await fetch('https://example.com/chat', { method: 'POST', body: '{"q":"hi"}' })
 * for await (const event of parseEventStream(response.body!)) {
 *   if (event.data === '[DONE]') break
 *   console.log(JSON.parse(event.data))
 * }
 * ```
 * @public
 */
export function parseEventStream(
  body: ReadableStream<Uint8Array>,
  options: ParseEventStreamOptions = {},
): EventStream {
  if (typeof (body as ReadableStream | null)?.getReader !== 'function') {
    throw new TypeError(
      `parseEventStream(body) needs a ReadableStream of bytes such as response.body, got ${body === null ? 'null (a response without a body?)' : typeof body}`,
    )
  }
  const events = createEventReader(body, options)
  // highWaterMark 0: nothing is read before someone asks, so the iterator below and a reader
  // never race for the same events.
  const stream = new ReadableStream<ServerSentEvent>(
    {
      async pull(controller) {
        const result = await events.next()
        if (result.done) {
          controller.close()
          return
        }
        controller.enqueue(result.value)
        for (const event of events.takeQueued()) controller.enqueue(event)
      },
      cancel: (reason) => events.cancel(reason),
    },
    { highWaterMark: 0 },
  )
  const iterate = (): AsyncIterableIterator<ServerSentEvent> => {
    // Lock the stream so nothing else reads it while we iterate.
    const lock = stream.getReader()
    let open = true
    const finish = (): void => {
      if (open) {
        open = false
        lock.releaseLock()
      }
    }
    const slowNext = async (): Promise<IteratorResult<ServerSentEvent, undefined>> => {
      try {
        const result = await events.next()
        if (result.done) finish()
        return result
      } catch (error) {
        finish()
        throw error
      }
    }
    return {
      next() {
        if (!open) return Promise.resolve({ done: true, value: undefined })
        // Events parsed from the current chunk need no read: one settled promise each.
        const event = events.poll()
        return event === undefined ? slowNext() : Promise.resolve({ done: false, value: event })
      },
      async return(value?: unknown) {
        if (open) {
          finish()
          await events.cancel()
        }
        return { done: true, value: value as undefined }
      },
      [Symbol.asyncIterator]() {
        return this
      },
    }
  }
  Object.defineProperty(stream, Symbol.asyncIterator, { value: iterate, configurable: true })
  Object.defineProperty(stream, 'values', { value: iterate, configurable: true })
  return stream as EventStream
}

/**
 * A `TransformStream` from the bytes of a `text/event-stream` body to {@link ServerSentEvent}s,
 * for `pipeThrough`. Prefer {@link parseEventStream} on a hot path: each stage of a pipe costs a
 * promise per chunk. A limit error errors both sides, which cancels the body upstream.
 *
 * @example
 * ```ts
 * import { EventStreamParserStream } from '@ssekit/fetch-client'
 *
 * const response = await fetch('https://example.com/stream')
 * const events = response.body!.pipeThrough(new EventStreamParserStream())
 * for await (const event of events) console.log(event.type, event.data)
 * ```
 * @public
 */
export class EventStreamParserStream extends TransformStream<Uint8Array, ServerSentEvent> {
  constructor(options: ParseEventStreamOptions = {}) {
    let parser: ReturnType<typeof createParser> | undefined
    super({
      start(controller) {
        parser = createParser({
          ...options,
          onEvent: (event) => controller.enqueue(event),
          onError: (error) => controller.error(error),
        })
      },
      transform(chunk) {
        parser?.feed(chunk)
      },
    })
  }
}
