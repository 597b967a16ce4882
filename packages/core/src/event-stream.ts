import {
  createEventPump,
  type EventPump,
  type EventPumpOptions,
  type EventSink,
  highWaterMarkOf,
} from './_pump.ts'
import type { EventStreamSource } from './types.ts'

/**
 * Options of {@link createEventStream}: `retry`, `heartbeat`, `highWaterMark`, `lastEventId`,
 * `signal`, and the hooks `onOpen`, `onClose`, `onError`.
 *
 * @example
 * ```ts
 * import { createEventStream, type EventStreamOptions } from '@ssekit/core'
 *
 * const options: EventStreamOptions = {
 *   retry: 2_000,
 *   onClose: (summary) => logger.info(summary, 'event stream closed'),
 * }
 * const body = createEventStream(source, options)
 * ```
 * @public
 */
export type EventStreamOptions = EventPumpOptions

/**
 * Turns a source of events into a `ReadableStream` of encoded Server-Sent Events frames, ready to
 * be a `Response` body in any runtime.
 *
 * - Pull-based: the source is advanced only while the stream's queue holds fewer than
 *   `highWaterMark` bytes, so a client that stops reading stops the producer.
 * - Frames that are ready together (a burst from the source) are encoded into one chunk.
 * - The first bytes go out at once (`retry: N` when set, else a `:` comment), so headers flush
 *   before the first event exists; a `:` heartbeat follows every `heartbeat` ms of silence.
 * - Cancelling the stream (the client left) runs the source's `return()`, aborts the `signal` a
 *   source function received, stops the heartbeat and calls `onClose` once.
 * - A source that throws ends the stream cleanly; `onError` may return a last event to send. The
 *   error itself never reaches the client.
 *
 * Chunks are shared with other streams when events come from {@link createEncodedEvent}: read
 * them, never modify them.
 *
 * @param source - An async iterable (an async generator, a hub subscription), a sync iterable, or
 *   a function `({ signal, lastEventId }) => iterable`.
 * @param options - Hooks, `heartbeat`, `retry`, `highWaterMark`, `signal`, `lastEventId`.
 * @returns A byte stream of SSE frames.
 * @throws SseError `invalid-option` for an option that cannot work; `TypeError` for a source that
 *   is not one.
 * @example
 * ```ts
 * import { createEventStream, eventStreamHeaders } from '@ssekit/core'
 *
 * const body = createEventStream(async function* ({ signal }) {
 *   while (!signal.aborted) {
 *     yield { event: 'tick', data: { now: Date.now() } }
 *     await new Promise((resolve) => setTimeout(resolve, 1000))
 *   }
 * })
 * return new Response(body, { headers: eventStreamHeaders })
 * ```
 * @public
 */
export function createEventStream(
  source: EventStreamSource,
  options: EventStreamOptions = {},
): ReadableStream<Uint8Array> {
  const highWaterMark = highWaterMarkOf(options)
  return new ReadableStream<Uint8Array>(new PumpSource(source, options), {
    highWaterMark,
    size: chunkSize,
  })
}

function chunkSize(chunk: Uint8Array): number {
  return chunk.byteLength
}

/** The underlying source: a class, so a stream costs one object here rather than three closures. */
class PumpSource implements UnderlyingDefaultSource<Uint8Array> {
  private pump: EventPump | undefined
  private source: EventStreamSource | undefined
  private readonly options: EventStreamOptions

  constructor(source: EventStreamSource, options: EventStreamOptions) {
    this.source = source
    this.options = options
  }

  start(controller: ReadableStreamDefaultController<Uint8Array>): void {
    const source = this.source as EventStreamSource
    this.source = undefined
    this.pump = createEventPump(source, new ControllerSink(controller), this.options)
  }

  pull(): void {
    this.pump?.resume()
  }

  cancel(): Promise<void> | undefined {
    return this.pump?.cancel('cancel')
  }
}

class ControllerSink implements EventSink {
  private readonly controller: ReadableStreamDefaultController<Uint8Array>

  constructor(controller: ReadableStreamDefaultController<Uint8Array>) {
    this.controller = controller
  }

  write(chunk: Uint8Array): boolean {
    this.controller.enqueue(chunk)
    return (this.controller.desiredSize ?? 0) > 0
  }

  close(): void {
    this.controller.close()
  }

  error(reason: unknown): void {
    this.controller.error(reason)
  }
}
