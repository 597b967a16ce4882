// CONTRACT FILE: the signatures below are fixed (packages/node and packages/hono code against them);
// the owner of packages/core replaces the body of createEventPump with the real engine.
import type { CloseReason, EventStreamHooks, EventStreamSource, SseEvent } from './types.ts'

/**
 * Where a pump writes. `write` returns `false` when the consumer is full (a node:http `write()` that
 * returned false, a `ReadableStream` controller whose `desiredSize` is 0 or less); the pump then
 * stops advancing the source until {@link EventPump.resume} is called.
 * @public
 */
export interface EventSink {
  /** Hands one chunk (one or more whole frames) to the consumer; `false` means "full, wait". */
  write(chunk: Uint8Array): boolean
  /** The stream ended (source done, final event written, or shutdown): finish the response. */
  close(): void
  /** The stream failed in a way the consumer must see (only used when no final event could be sent). */
  error(reason: unknown): void
}

/** Options of {@link createEventPump}: the same as `createEventStream`'s. @public */
export interface EventPumpOptions extends EventStreamHooks {
  /** Sent first as `retry: <ms>`, the client's reconnection delay. */
  retry?: number | undefined
  /**
   * Milliseconds without any write after which a `:` comment is sent to keep proxies and the
   * client from timing the stream out; never sent while the consumer is full. `false` disables it.
   * @defaultValue 15000
   */
  heartbeat?: number | false | undefined
  /** How many bytes may wait for a slow consumer before the source is paused. @defaultValue 65536 */
  highWaterMark?: number | undefined
  /** The client's last event id, passed to a source function. */
  lastEventId?: string | undefined
  /** Ends the stream (reason `abort`) when it fires. */
  signal?: AbortSignal | undefined
  /**
   * Called when the source throws. Return an event to send it as the last one (the client never
   * sees the error itself unless you put it there); return nothing to just end the stream.
   */
  onError?: ((error: unknown) => SseEvent | undefined | void) | undefined
}

/**
 * One running stream. The consumer calls `resume()` whenever it has room again (after `drain`, on
 * `pull()`), and `cancel()` when it goes away.
 * @public
 */
export interface EventPump {
  /** The consumer has room: advance the source until the sink is full again or the source waits. */
  resume(): void
  /** The consumer is gone: run the source's `return()`, abort its signal, clear timers. Idempotent. */
  cancel(reason?: CloseReason): Promise<void>
  /**
   * Ends the stream on purpose (server shutdown): writes `finalEvent` if given (a `retry:` hint,
   * say), then closes the sink. Idempotent.
   */
  close(finalEvent?: SseEvent): Promise<void>
  /** Whether the stream has ended. */
  readonly closed: boolean
}

/**
 * Starts a pump that moves events from `source` into `sink`, encoding once and coalescing the
 * frames that are ready together into one chunk.
 * @public
 */
export function createEventPump(
  source: EventStreamSource,
  sink: EventSink,
  options: EventPumpOptions = {},
): EventPump {
  void source
  void sink
  void options
  throw new Error('createEventPump: not implemented yet')
}
