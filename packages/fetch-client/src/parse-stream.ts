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
 * A limit error (`line-too-long`, `event-too-large`) cancels the body at once and errors the
 * stream after the events parsed before it. `values({ preventCancel: true })` keeps the body open
 * on `break`, and iterating after a released `getReader()` starts with the events it left queued.
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
  let controller: ReadableStreamDefaultController<ServerSentEvent> | undefined
  let pulling = false
  // highWaterMark 0: nothing is read before someone asks, so the stream's queue holds only what a
  // reader's read left over, and the iterator below can tell when reading the events directly is
  // safe.
  const stream = new ReadableStream<ServerSentEvent>(
    {
      start(streamController) {
        controller = streamController
      },
      async pull(streamController) {
        pulling = true
        try {
          const result = await events.next()
          if (result.done) {
            streamController.close()
            return
          }
          streamController.enqueue(result.value)
          for (const event of events.takeQueued()) streamController.enqueue(event)
        } finally {
          pulling = false
        }
      },
      cancel: (reason) => events.cancel(reason),
    },
    { highWaterMark: 0 },
  )
  const iterate = (
    iteratorOptions?: ReadableStreamIteratorOptions,
  ): AsyncIterableIterator<ServerSentEvent> => {
    // Lock the stream so nothing else reads it while we iterate.
    const lock = stream.getReader()
    const preventCancel = iteratorOptions?.preventCancel === true
    let open = true
    const finish = (): void => {
      if (open) {
        open = false
        lock.releaseLock()
      }
    }
    const settle = async (
      pending: Promise<IteratorResult<ServerSentEvent, undefined>>,
      fromEvents: boolean,
    ): Promise<IteratorResult<ServerSentEvent, undefined>> => {
      try {
        const result = await pending
        if (result.done) finish()
        return result
      } catch (error) {
        finish()
        // Through `lock` the stream has errored already; this keeps the direct path's stream in
        // the same state for a later reader.
        if (fromEvents) controller?.error(error)
        throw error
      }
    }
    const direct = (): Promise<IteratorResult<ServerSentEvent, undefined>> => {
      if (!open) return Promise.resolve({ done: true, value: undefined })
      // Events parsed from the current chunk need no read: one settled promise each.
      const event = events.poll()
      return event === undefined
        ? settle(events.next(), true)
        : Promise.resolve({ done: false, value: event })
    }
    // Reading the event reader directly skips the stream's queue, so it waits until that queue is
    // empty and no pull is under way: a reader used before may have left events there. From then
    // on the queue stays empty, since only a read through `lock` pulls. The check is made per
    // call only on that rare path, so the usual one is `direct` alone.
    let drained = !pulling && controller?.desiredSize === 0
    const next = drained
      ? direct
      : (): Promise<IteratorResult<ServerSentEvent, undefined>> => {
          if (!open) return Promise.resolve({ done: true, value: undefined })
          if (!drained) {
            if (pulling || controller?.desiredSize !== 0) {
              return settle(
                lock.read() as Promise<IteratorResult<ServerSentEvent, undefined>>,
                false,
              )
            }
            drained = true
          }
          return direct()
        }
    return {
      next,
      async return(value?: unknown) {
        if (open) {
          open = false
          if (preventCancel) lock.releaseLock()
          else {
            const cancelled = lock.cancel(value)
            lock.releaseLock()
            await cancelled
          }
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
 * promise per chunk. A limit error errors the writable side at once, which cancels the body
 * upstream, and the readable side once the events dispatched before it have been read.
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
    super()
    let output!: ReadableStreamDefaultController<ServerSentEvent>
    let input!: WritableStreamDefaultController
    let failure: unknown
    // As a TransformStream's backpressure: a chunk is parsed only once a read waits for events.
    let wanted = false
    let cancelled = false
    let wake: (() => void) | undefined
    const parser = createParser({
      ...options,
      onEvent: (event) => {
        wanted = false
        output.enqueue(event)
      },
      onError: (error) => {
        failure = error
      },
    })
    const readable = new ReadableStream<ServerSentEvent>(
      {
        start(controller) {
          output = controller
        },
        // Called only when a read finds the queue empty.
        pull() {
          if (failure !== undefined) {
            output.error(failure)
            return
          }
          wanted = true
          wake?.()
        },
        cancel(reason) {
          cancelled = true
          input.error(reason)
          wake?.()
        },
      },
      { highWaterMark: 0 },
    )
    const writable = new WritableStream<Uint8Array>(
      {
        start(controller) {
          input = controller
        },
        async write(chunk) {
          while (!(wanted || cancelled)) {
            await new Promise<void>((resolve) => {
              wake = resolve
            })
          }
          if (cancelled) return
          parser.feed(chunk)
          if (failure !== undefined) {
            // Nothing queued: no event to deliver first.
            if (output.desiredSize === 0) output.error(failure)
            // The writable side errors now, so pipeThrough cancels the body without waiting
            // for the events to be read.
            throw failure
          }
        },
        close() {
          output.close()
        },
        abort(reason) {
          output.error(reason)
        },
      },
      { highWaterMark: 1 },
    )
    // A TransformStream errors its readable side together with the writable one, which drops the
    // events enqueued but not read yet: this pair errors it only once they are read. It stays a
    // TransformStream for `instanceof` and the types; pipeThrough reads just these two properties.
    Object.defineProperties(this, { readable: { value: readable }, writable: { value: writable } })
  }
}
