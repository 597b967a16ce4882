/**
 * One dispatched Server-Sent Event, named as the browser's `MessageEvent` names it.
 *
 * @example
 * ```ts
 * import type { ServerSentEvent } from '@ssekit/fetch-client'
 *
 * function log(event: ServerSentEvent): void {
 *   console.log(event.type, event.data, event.lastEventId)
 * }
 * ```
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#dispatchMessage
 * @public
 */
export interface ServerSentEvent<Type extends string = string, Data = string> {
  /** The `event:` field, or `'message'` when the block had none (or an empty one). */
  type: Type
  /** The `data:` lines joined with LF. */
  data: Data
  /** The stream's last event id: persists across events (and reconnects) until an `id:` changes it. */
  lastEventId: string
  /** The `id:` of this very block, when it had a valid one; `undefined` otherwise. */
  id?: string | undefined
}

/**
 * The callbacks and limits of {@link createParser}.
 *
 * @example
 * ```ts
 * import { createParser, type ParserOptions } from '@ssekit/fetch-client'
 *
 * const options: ParserOptions = { onEvent: (event) => console.log(event.data), maxLineBytes: 65_536 }
 * const parser = createParser(options)
 * ```
 * @public
 */
export interface ParserOptions {
  /** Called for every dispatched event (a block that had at least one `data` line). */
  onEvent?: ((event: ServerSentEvent) => void) | undefined
  /**
   * Called when a block ends that set the last event id (also for blocks without `data`, such as
   * an id-only priming event), with the new id; `''` when the block reset it.
   */
  onId?: ((id: string) => void) | undefined
  /** Called with the reconnection time in milliseconds for every valid `retry:` field. */
  onRetry?: ((milliseconds: number) => void) | undefined
  /** Called with the text of every comment line (after `:`, one leading space removed). */
  onComment?: ((comment: string) => void) | undefined
  /**
   * Called when a limit is exceeded, with an `SseError` (`line-too-long` or `event-too-large`).
   * Without it, `feed()` throws the error. Either way the parser stops until `reset()`.
   */
  onError?: ((error: Error) => void) | undefined
  /**
   * The most bytes a line may reach before it is terminated. `Infinity` switches the limit off.
   * @defaultValue 1 MiB (1_048_576)
   */
  maxLineBytes?: number | undefined
  /**
   * The most bytes an event may reach before the blank line that dispatches it: every line since
   * the event's first `data` line. `Infinity` switches the limit off.
   * @defaultValue 8 MiB (8_388_608)
   */
  maxEventBytes?: number | undefined
  /** The last event id the stream starts from, as when resuming. @defaultValue `''` */
  lastEventId?: string | undefined
}

/**
 * A synchronous, byte-level event stream parser: see {@link createParser}.
 *
 * @example
 * ```ts
 * import { createParser } from '@ssekit/fetch-client'
 *
 * const parser = createParser({ onEvent: (event) => console.log(event.data) })
 * parser.feed(new TextEncoder().encode('data: hi\n\n'))
 * ```
 * @public
 */
export interface EventStreamParser {
  /** Parses the next bytes of the stream; callbacks run before it returns. */
  feed(chunk: Uint8Array): void
  /**
   * Starts a new stream (a new connection): drops the unterminated line and event, resets the
   * UTF-8 decoder (so the next leading BOM is stripped) and any limit error. The last event id
   * persists, as the spec wants across reconnects, unless `options.lastEventId` sets it.
   */
  reset(options?: { lastEventId?: string | undefined } | undefined): void
  /** The stream's last event id so far. */
  readonly lastEventId: string
}
