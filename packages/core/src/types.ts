/**
 * One Server-Sent Event, as the application describes it. Every field is optional; an object with
 * no field encodes to nothing but the blank line that ends a frame.
 *
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 * @public
 */
export interface SseEvent {
  /**
   * The payload. A string is written as it is, split on CRLF, CR and LF into one `data:` line per
   * line, so a client sees the same string. Any other value (object, number, boolean, null) is
   * serialised with `JSON.stringify`. `undefined` writes no `data:` line.
   */
  data?: unknown
  /** The event type (`event:`). Must not contain CR, LF or NUL. */
  event?: string | undefined
  /** The event id (`id:`), which clients send back as `Last-Event-ID`. No CR, LF or NUL. An empty string resets the client's last event id. */
  id?: string | undefined
  /** The reconnection time hint in milliseconds (`retry:`): a non-negative safe integer. */
  retry?: number | undefined
  /** A comment (`: text`), ignored by clients; a multi-line comment becomes one `: ` line per line. */
  comment?: string | undefined
}

/**
 * What a source function receives when a stream starts.
 * @public
 */
export interface EventSourceContext {
  /** Aborted when the stream ends for any reason: the client left, the stream was cancelled, or shutdown. */
  signal: AbortSignal
  /** The id the client last saw (`Last-Event-ID`), when it sent one. */
  lastEventId: string | undefined
}

/**
 * Where events come from: an async (or sync) iterable of events, or a function that receives an
 * {@link EventSourceContext} and returns one.
 * @public
 */
export type EventStreamSource =
  | AsyncIterable<SseEvent>
  | Iterable<SseEvent>
  | ((context: EventSourceContext) => AsyncIterable<SseEvent> | Iterable<SseEvent>)

/**
 * Why a stream ended:
 * - `end`: the source finished;
 * - `cancel`: the consumer (the client) went away or cancelled the stream;
 * - `error`: the source threw;
 * - `abort`: the `signal` passed in options fired;
 * - `shutdown`: the server is closing every stream;
 * - `lifetime`: the stream reached its `maxLifetime` (the client reconnects and resumes).
 * @public
 */
export type CloseReason = 'end' | 'cancel' | 'error' | 'abort' | 'shutdown' | 'lifetime'

/** What `onClose` reports about a finished stream. @public */
export interface EventStreamSummary {
  reason: CloseReason
  /** Events written (heartbeats and the opening comment are not counted). */
  events: number
  /** Bytes handed to the consumer, heartbeats included. */
  bytes: number
  /** Milliseconds from open to close. */
  durationMs: number
  /** The source's error, when `reason` is `error`. */
  error?: unknown
}

/** Lifecycle hooks every stream calls; plug a logger or a metrics counter in here. @public */
export interface EventStreamHooks {
  /** Called once when the stream starts, with the client's last event id. */
  onOpen?: ((info: { lastEventId: string | undefined }) => void) | undefined
  /** Called exactly once when the stream ends, whatever the reason. */
  onClose?: ((summary: EventStreamSummary) => void) | undefined
}
