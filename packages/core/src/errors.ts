/**
 * Every failure ssekit reports, as one string-literal union, so callers can `switch` on it.
 *
 * - `invalid-field`: an event field would corrupt the frame (CR, LF or NUL in `event`/`id`, a
 *   `retry` that is not a non-negative safe integer). Nothing was written.
 * - `invalid-option`: an option has a value that cannot work (a negative heartbeat, say).
 * - `aborted`: the caller's `AbortSignal` fired, or the stream was cancelled.
 * - `source-error`: the application's event source threw.
 * - `closed`: the stream or hub was already closed or shut down.
 * - `line-too-long` / `event-too-large`: a parser limit was exceeded; the body was cancelled.
 * - `bad-status` / `bad-content-type`: the server did not answer with a 2xx `text/event-stream`.
 * - `network`: the connection failed or dropped.
 * - `idle-timeout`: no bytes arrived within the idle budget.
 * - `retries-exhausted`: the reconnect policy gave up.
 * - `bad-data`: a client's `parse` option failed on an event's data (invalid JSON, say); `cause`
 *   is what it threw.
 * - `queue-overflow`: a subscriber fell further behind than its queue allows.
 * - `unauthorized`: a topic was refused by the authorisation hook.
 * - `backend-unavailable`: the hub's backend (Redis) could not accept or deliver an event.
 *
 * @public
 */
export type SseErrorCode =
  | 'invalid-field'
  | 'invalid-option'
  | 'aborted'
  | 'source-error'
  | 'closed'
  | 'line-too-long'
  | 'event-too-large'
  | 'bad-status'
  | 'bad-content-type'
  | 'network'
  | 'idle-timeout'
  | 'retries-exhausted'
  | 'bad-data'
  | 'queue-overflow'
  | 'unauthorized'
  | 'backend-unavailable'

/** Structured context an {@link SseError} may carry. @public */
export interface SseErrorDetails {
  /** The SSE field at fault, for `invalid-field`. */
  field?: string | undefined
  /** The HTTP status, for `bad-status`. */
  status?: number | undefined
  /** The response headers, for `bad-status` / `bad-content-type`. */
  headers?: Headers | undefined
  /** The start of the response body (bounded), for `bad-status` / `bad-content-type`. */
  body?: string | undefined
  /** The underlying error. */
  cause?: unknown
}

const marker = Symbol.for('ssekit.error')

/**
 * The one error class of ssekit. Check `code` rather than the message; use
 * {@link SseError.isInstance} rather than `instanceof`, because `@ssekit/core` and
 * `@ssekit/fetch-client` may each be installed more than once in an app.
 *
 * @example
 * ```ts
 * import { encodeEvent, SseError } from '@ssekit/core'
 *
 * try {
 *   encodeEvent({ event: 'a\nb' })
 * } catch (error) {
 *   if (SseError.isInstance(error) && error.code === 'invalid-field') {
 *     console.log(error.field) // 'event'
 *   }
 * }
 * ```
 * @public
 */
export class SseError extends Error {
  override readonly name = 'SseError'
  // `declare`: the constructor assigns them, so no class field is emitted to define them first.
  /** What went wrong, as a stable string-literal code. */
  declare readonly code: SseErrorCode
  /** The SSE field at fault, for `invalid-field`. */
  declare readonly field: string | undefined
  /** The HTTP status, for `bad-status`. */
  declare readonly status: number | undefined
  /** The response headers, for `bad-status` / `bad-content-type`. */
  declare readonly headers: Headers | undefined
  /** The start of the response body (bounded), for `bad-status` / `bad-content-type`. */
  declare readonly body: string | undefined
  /** @internal Lets {@link SseError.isInstance} recognise errors from another copy of ssekit. */
  readonly [marker] = true

  constructor(code: SseErrorCode, message: string, details?: SseErrorDetails) {
    // Error reads only `cause` from its options.
    super(message, details)
    this.code = code
    // Only the details given become own properties; the others read as undefined all the same.
    Object.assign(this, details)
  }

  /**
   * Whether `value` is an `SseError`, from this copy of ssekit or any other.
   *
   * @example
   * ```ts
   * if (SseError.isInstance(error)) console.log(error.code)
   * ```
   */
  static isInstance(value: unknown): value is SseError {
    // Reading a symbol off a primitive is harmless (it is undefined), so no typeof check.
    return (value as Record<symbol, unknown> | null | undefined)?.[marker] === true
  }
}
