import { type EventMap as CoreEventMap, SseError } from '@ssekit/core'
import { backoffDelay, maxTimerMs, minGrowthMs, parseRetryAfter } from './_backoff.ts'
import { createParser } from './parse.ts'
import type { ServerSentEvent } from './types.ts'

/**
 * Event types mapped to the type of their parsed `data`, for {@link fetchEventStream}'s generic: the
 * same type as `@ssekit/core`'s, so a server and its clients share one declaration.
 *
 * @example
 * ```ts
 * import type { EventMap } from '@ssekit/fetch-client'
 *
 * interface ChatEvents extends EventMap {
 *   token: { text: string }
 *   done: null
 * }
 * ```
 * @public
 */
export type EventMap = CoreEventMap

// The declared event types of a map; an interface that extends EventMap also carries its string
// index signature, which would otherwise let any event name through.
type DeclaredType<Events> = keyof {
  [Type in keyof Events as string extends Type ? never : Type]: Events[Type]
} &
  string

/**
 * The events a client typed with `Events` yields: a union over the event types, so checking `type`
 * narrows `data`. A map with no declared type (a plain `Record<string, T>`) yields
 * `ServerSentEvent<string, T>`.
 *
 * @example
 * ```ts
 * import type { TypedEvent } from '@ssekit/fetch-client'
 *
 * function handle(event: TypedEvent<{ token: { text: string }; done: null }>): void {
 *   if (event.type === 'token') console.log(event.data.text)
 * }
 * ```
 * @public
 */
export type TypedEvent<Events extends EventMap> = [DeclaredType<Events>] extends [never]
  ? ServerSentEvent<string, Events[string]>
  : { [Type in DeclaredType<Events>]: ServerSentEvent<Type, Events[Type]> }[DeclaredType<Events>]

/**
 * What {@link FetchEventStreamInit.resume} receives when a stream broke.
 * @example
 * ```ts
 * const resume = ({ lastEventId }: ResumeContext) => `/chat/stream?after=${lastEventId}`
 * ```
 * @public
 */
export interface ResumeContext {
  /** The last event id the stream reached (`''` when no event carried one). */
  lastEventId: string
  /** The reconnection attempt, from 1. */
  attempt: number
  /** Why the stream broke: `undefined` for a normal end of body. */
  error: SseError | undefined
}

/**
 * What {@link FetchEventStreamInit.onRetry} and `shouldRetry` receive.
 * @example
 * ```ts
 * const onRetry = ({ attempt, delayMs, error }: RetryContext) =>
 *   console.warn(`reconnect #${attempt} in ${delayMs} ms`, error?.code)
 * ```
 * @public
 */
export interface RetryContext {
  /**
   * The reconnection attempt, from 1; it starts over after a healthy connection (see
   * {@link FetchEventStreamInit.healthyAfterMs}).
   */
  attempt: number
  /** The delay before the attempt, in milliseconds. */
  delayMs: number
  /** Why: `undefined` when the body ended normally (the spec's "reestablish"). */
  error: SseError | undefined
}

/**
 * A `fetch`-shaped function, for proxies, HTTP/2 agents or tests.
 * @example
 * ```ts
 * const loggingFetch: FetchFunction = (input, init) => {
 *   console.log('connecting', String(input))
 *   return fetch(input, init)
 * }
 * ```
 * @public
 */
export type FetchFunction = (input: Request | string | URL, init?: RequestInit) => Promise<Response>

/**
 * The options of {@link fetchEventStream}: a `RequestInit`, plus reconnect, timeout, limit and
 * parsing options.
 *
 * @example
 * ```ts
 * import type { FetchEventStreamInit } from '@ssekit/fetch-client'
 *
 * const init: FetchEventStreamInit = {
 *   headers: async () => ({ authorization: `Bearer ${await getToken()}` }),
 *   idleTimeoutMs: 45_000,
 *   maxRetries: 10,
 * }
 * ```
 * @public
 */
export interface FetchEventStreamInit<Events extends EventMap = EventMap>
  extends Omit<RequestInit, 'headers' | 'signal'> {
  /**
   * Request headers, or a (sync or async) function that returns them, called before every
   * connection attempt so a refreshed token is used. `Accept: text/event-stream` is added when
   * absent, and `Last-Event-ID` when the stream has a last event id.
   */
  headers?: HeadersInit | (() => HeadersInit | Promise<HeadersInit>) | undefined
  /**
   * Aborting it cancels the body, clears every timer and rejects the pending `next()` with its
   * reason. A `Request` passed as `input` is listened to as well.
   */
  signal?: AbortSignal | null | undefined
  /** The `fetch` to use. @defaultValue `globalThis.fetch` */
  fetch?: FetchFunction | undefined
  /** The last event id to resume from: sent as `Last-Event-ID` with the first request too. */
  initialLastEventId?: string | undefined
  /**
   * When to reconnect:
   * - `'auto'`: GET, HEAD and OPTIONS reconnect (on a network error, an idle timeout, a retryable
   *   status, and a normal end of body, as the spec's EventSource does); any other method is
   *   never sent again, but a broken stream is continued through `resume` when one is given.
   * - `'always'`: reconnect whatever the method (re-sends a POST: use only for idempotent POSTs; a
   *   `Request` is cloned for every attempt, and a `ReadableStream` body, which cannot be sent
   *   twice, is refused with a TypeError).
   * - `'never'`: one request; errors are thrown, a normal end ends the iteration.
   * @defaultValue 'auto'
   */
  reconnect?: 'auto' | 'always' | 'never' | undefined
  /**
   * Continues a broken stream with another request (typically a GET of a resume endpoint, which
   * gets `Last-Event-ID`), instead of re-sending the original: so a dropped LLM answer is picked
   * up where it stopped, not generated and paid for twice. Return `undefined` to give up: the
   * error that broke the stream is then thrown (a normal end just ends the iteration).
   */
  resume?:
    | ((
        context: ResumeContext,
      ) => Request | string | URL | undefined | Promise<Request | string | URL | undefined>)
    | undefined
  /** The reconnection time before the server sends `retry:`; the backoff's base. @defaultValue 1000 */
  retryMs?: number | undefined
  /** The backoff's cap, before jitter. @defaultValue 30000 */
  maxRetryMs?: number | undefined
  /** Consecutive failed attempts before giving up with `retries-exhausted`. @defaultValue Infinity */
  maxRetries?: number | undefined
  /** Milliseconds of consecutive failures before giving up with `retries-exhausted`. @defaultValue Infinity */
  maxElapsedMs?: number | undefined
  /**
   * Milliseconds after it opened that a connection must still be sending bytes to count as healthy,
   * so that the backoff (attempt count, `maxRetries`, `maxElapsedMs`) starts over when it breaks. A body that ends normally
   * after an event is healthy too (the spec's "reestablish"). A server that accepts and drops every
   * connection at once, even after an event, is backed off.
   * @defaultValue 5000
   */
  healthyAfterMs?: number | undefined
  /**
   * Decides whether to reconnect after an error (its `status`, `headers` and `body` tell about a
   * bad response); return `undefined` for the default: network errors, idle timeouts, 408, 429
   * and 5xx are retried; other statuses, a wrong content type and limits are fatal.
   */
  shouldRetry?: ((error: SseError, context: { attempt: number }) => boolean | undefined) | undefined
  /**
   * Milliseconds without a single byte (comments count) before the connection is dropped with
   * `idle-timeout` and the reconnect policy applies; measured per read (and to the response
   * headers). `0` or `undefined` switches it off.
   */
  idleTimeoutMs?: number | undefined
  /** See {@link ParserOptions.maxLineBytes}. @defaultValue 1 MiB */
  maxLineBytes?: number | undefined
  /** See {@link ParserOptions.maxEventBytes}. @defaultValue 8 MiB */
  maxEventBytes?: number | undefined
  /**
   * Parses `data`: `'json'` for every event, or a function per event type (types without one
   * stay strings). By default `data` is the string as received.
   */
  parse?:
    | 'json'
    | { [Type in keyof Events]?: ((data: string) => Events[Type]) | undefined }
    | undefined
  /** Called for every connection that was accepted (200, `text/event-stream`). */
  onOpen?: ((response: Response) => void) | undefined
  /** Called before every reconnection delay. */
  onRetry?: ((context: RetryContext) => void) | undefined
  /** Called with every comment line: keep-alives, for instance. */
  onComment?: ((comment: string) => void) | undefined
}

/**
 * What {@link fetchEventStream} returns: an async iterator of events that also closes and
 * disposes (`await using`).
 *
 * @example
 * ```ts
 * import { fetchEventStream, type EventStreamClient } from '@ssekit/fetch-client'
 *
 * const client: EventStreamClient = fetchEventStream('/events')
 * setTimeout(() => client.close(), 60_000)
 * for await (const event of client) console.log(event.data)
 * ```
 * @public
 */
export interface EventStreamClient<Event = ServerSentEvent>
  extends AsyncIterableIterator<Event>,
    AsyncDisposable {
  /** Stops for good: cancels the body and any pending reconnect; a pending `next()` resolves done. */
  close(): void
  /** The last event id so far (sent as `Last-Event-ID` when reconnecting). */
  readonly lastEventId: string
  /** The reconnection time: the server's last valid `retry:`, else `init.retryMs`. */
  readonly retryMs: number
}

const SNIPPET_LENGTH = 1024
const noop = (): void => {}

/**
 * Opens a Server-Sent Events stream with `fetch` and iterates its events: GET or POST, with
 * headers (also from a function), `Last-Event-ID` resume, reconnects with exponential backoff and
 * full jitter (the server's `retry:` is the base), an idle timeout, size limits, typed errors and
 * `AbortSignal` support. A POST is never silently re-sent: see `reconnect` and `resume`.
 *
 * The request starts on the first `next()` (the first turn of `for await`); the body is read only
 * as fast as the loop asks for events. `break` closes the connection.
 *
 * Errors are `SseError`s with a `code`: `bad-status` (with `status`, `headers` and the start of the
 * `body`), `bad-content-type`, `network`, `idle-timeout`, `line-too-long`, `event-too-large`,
 * `retries-exhausted` (with the last error as `cause`), `bad-data` (`parse` threw; its error as
 * `cause`). An aborted `signal` rejects with its reason.
 * HTTP 204 ends the iteration: the server's way to say "do not reconnect".
 *
 * @param input - the URL or `Request`.
 * @param init - a `RequestInit` plus the options of {@link FetchEventStreamInit}.
 * @throws TypeError for an option that cannot work (a negative timeout, say).
 *
 * @example
 * ```ts
 * import { fetchEventStream } from '@ssekit/fetch-client'
 *
 * const stream = fetchEventStream<{ token: { text: string }; done: null }>('/api/chat', {
 *   method: 'POST',
 *   body: JSON.stringify({ prompt: 'Hello' }),
 *   headers: { 'content-type': 'application/json' },
 *   parse: 'json',
 *   idleTimeoutMs: 30_000,
 *   // A dropped answer continues from where it broke, without a second generation.
 *   resume: ({ lastEventId }) => `/api/chat/resume?id=${encodeURIComponent(lastEventId)}`,
 * })
 * for await (const event of stream) {
 *   if (event.type === 'token') process.stdout.write(event.data.text)
 *   else break
 * }
 * ```
 * @public
 */
export function fetchEventStream<Events extends EventMap = Record<string, string>>(
  input: Request | string | URL,
  init: FetchEventStreamInit<Events> = {},
): EventStreamClient<Record<string, string> extends Events ? ServerSentEvent : TypedEvent<Events>> {
  type Event = Record<string, string> extends Events ? ServerSentEvent : TypedEvent<Events>
  const {
    headers: headersOption,
    signal: signalOption,
    fetch: fetchOption,
    initialLastEventId,
    reconnect = 'auto',
    resume,
    shouldRetry,
    parse,
    onOpen,
    onRetry,
    onComment,
    retryMs: retryMsOption,
    maxRetryMs: maxRetryMsOption,
    maxRetries: maxRetriesOption,
    maxElapsedMs: maxElapsedMsOption,
    healthyAfterMs: healthyAfterOption,
    idleTimeoutMs: idleTimeoutOption,
    maxLineBytes,
    maxEventBytes,
    ...requestInit
  } = init
  if (input === undefined || input === null || input === '') {
    throw new TypeError('fetchEventStream needs a URL or a Request')
  }
  const retryMs = nonNegative(retryMsOption, 'retryMs', 1000)
  const maxRetryMs = nonNegative(maxRetryMsOption, 'maxRetryMs', 30_000)
  const maxRetries = nonNegative(maxRetriesOption, 'maxRetries', Infinity)
  const maxElapsedMs = nonNegative(maxElapsedMsOption, 'maxElapsedMs', Infinity)
  const idleTimeoutMs = nonNegative(idleTimeoutOption, 'idleTimeoutMs', 0)
  const healthyAfterMs = nonNegative(healthyAfterOption, 'healthyAfterMs', 5000)
  if (!['auto', 'always', 'never'].includes(reconnect)) {
    throw new TypeError(`reconnect must be 'auto', 'always' or 'never', got ${reconnect}`)
  }
  // A normal end of body is a completed answer for a POST; only idempotent streams reestablish.
  const reconnectOnEnd =
    reconnect === 'always' ||
    (reconnect === 'auto' &&
      /^(GET|HEAD|OPTIONS)$/i.test(
        requestInit.method ?? (input as Partial<Request>).method ?? 'GET',
      ))
  const reconnectOnError = reconnectOnEnd || (reconnect === 'auto' && resume !== undefined)
  // Whether `input` may be sent more than once (else a broken stream goes on through `resume`).
  const resends = reconnectOnEnd || (reconnectOnError && resume === undefined)
  // A stream (or, in Node, an async iterable) is read as it is sent: a second request would get
  // nothing of it.
  const body = requestInit.body as object | null | undefined
  if (resends && typeof body === 'object' && body !== null && Symbol.asyncIterator in body) {
    throw new TypeError(
      'A stream body cannot be sent again: reconnect needs a string, Blob or ArrayBuffer',
    )
  }
  // What a resume URL's request keeps of `init` (credentials, mode, cache...): not the method, body
  // and integrity of the request it replaces.
  const {
    method: _method,
    body: _body,
    duplex: _duplex,
    integrity: _integrity,
    ...resumeInit
  } = requestInit as RequestInit & { duplex?: string }

  // The events of the last chunk, handed out from `head` on.
  let queue: ServerSentEvent[] = []
  let head = 0
  let serverRetryMs: number | undefined
  let limitError: Error | undefined
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined
  let connection: AbortController | undefined
  let openedAt = 0
  // When the connection's last bytes were read: how long it really carried data.
  let lastReadAt = 0
  let delivered = false
  let requests = 0
  let attempt = 0
  let failingSince: number | undefined
  let retryAfterMs: number | undefined
  let finished = false
  // Set when the signal ended the stream: the iteration then rejects with its reason.
  let aborted: { reason: unknown } | undefined
  // Cuts short whatever the loop awaits that may never settle (the backoff, `headers()`,
  // `resume()`, `fetch`) when the stream ends or the idle timeout fires.
  let wake: () => void = noop

  const parser = createParser({
    lastEventId: initialLastEventId,
    maxLineBytes,
    maxEventBytes,
    onEvent: (event) => {
      queue.push(event)
      delivered = true
    },
    onRetry: (milliseconds) => {
      serverRetryMs = milliseconds
    },
    onComment,
    onError: (error) => {
      limitError = error
    },
  })

  // A Request's own signal ends the stream too, as it would end `fetch(request)`.
  const requestSignal = (input as Partial<Request>).signal
  const signal =
    requestSignal && signalOption
      ? AbortSignal.any([signalOption, requestSignal])
      : (signalOption ?? requestSignal)
  const onAbort = (): void => end(signal?.reason, true)
  if (signal?.aborted) onAbort()
  else signal?.addEventListener('abort', onAbort)

  /** Ends for good: `reason` cancels the body; with `rejects`, the iteration rejects with it. */
  function end(reason?: unknown, rejects?: boolean): void {
    if (finished) return
    finished = true
    if (rejects) aborted = { reason }
    wake()
    dropConnection(reason)
    signal?.removeEventListener('abort', onAbort)
  }

  function dropConnection(reason?: unknown): void {
    reader?.cancel(reason).catch(noop)
    connection?.abort(reason)
    reader = connection = undefined
  }

  /** Settles as `operation` does, or rejects (with `undefined`) when {@link wake} is called first. */
  function interruptible<Result>(operation: Result | PromiseLike<Result>): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      wake = reject
      Promise.resolve(operation).then(resolve, reject)
    })
  }

  /**
   * Runs one network step under the idle timeout, which drops the connection: its result, or the
   * failure as an `idle-timeout` or `network` error.
   */
  async function watch<Result>(
    operation: () => Promise<Result>,
    label: string,
  ): Promise<Result | SseError> {
    let timedOut = false
    const timer =
      idleTimeoutMs &&
      setTimeout(
        () => {
          timedOut = true
          dropConnection()
          wake()
        },
        Math.min(idleTimeoutMs, maxTimerMs),
      )
    let result: Result | SseError
    try {
      result = await operation()
    } catch (cause) {
      result = new SseError('network', `${label}: ${String(cause)}`, { cause })
    }
    clearTimeout(timer)
    return timedOut ? new SseError('idle-timeout', `No bytes for ${idleTimeoutMs} ms`) : result
  }

  /**
   * The whole life of the stream as one loop: hand out parsed events, read the body, and when there
   * is no body, decide whether to (re)connect, wait out the backoff and connect. `error` is why the
   * last connection ended (`undefined` for a normal end of body). An async generator, so calls to
   * `next()` made at the same time are answered in order.
   */
  async function* run(): AsyncGenerator<Event, void> {
    let error: SseError | undefined
    try {
      while (!finished) {
        if (head < queue.length) {
          const event = queue[head++] as ServerSentEvent
          const parseData =
            parse === 'json'
              ? JSON.parse
              : parse !== undefined && Object.hasOwn(parse, event.type)
                ? (parse as Record<string, ((data: string) => unknown) | undefined>)[event.type]
                : undefined
          if (parseData === undefined) yield event as Event
          else {
            let data: unknown
            try {
              data = parseData(event.data)
            } catch (cause) {
              throw new SseError(
                'bad-data',
                `Cannot parse the data of a ${event.type} event: ${String(cause)}`,
                { cause },
              )
            }
            yield { ...event, data } as Event
          }
        } else if (limitError) {
          // After the events the parser dispatched before the limit was passed.
          throw limitError
        } else if (reader) {
          const result = await watch(
            () => (reader as ReadableStreamDefaultReader<Uint8Array>).read(),
            'Stream broke',
          )
          if (result instanceof SseError || result.done) {
            dropConnection()
            error = result instanceof SseError ? result : undefined
            // Judged by when bytes came, not when the break was noticed: a consumer slower than
            // `healthyAfterMs`, or an idle timeout at least as long, must not make a connection
            // that sent nothing more look healthy.
            if ((delivered && !error) || lastReadAt - openedAt >= healthyAfterMs) {
              // A healthy connection: the backoff starts over.
              attempt = 0
              failingSince = undefined
            }
          } else if (!finished) {
            lastReadAt = Date.now()
            queue = []
            head = 0
            parser.feed(result.value)
            // The body is cancelled at once; the events before the limit are still handed out.
            if (limitError) dropConnection(limitError)
          }
        } else {
          let target = input
          let options: RequestInit = requestInit
          const lastEventId = parser.lastEventId
          if (requests > 0) {
            // Network errors and idle timeouts carry no status.
            const status = error?.status ?? 0
            if (
              !(error
                ? reconnectOnError &&
                  (shouldRetry?.(error, { attempt: attempt + 1 }) ??
                    (!status || status >= 500 || status === 429 || status === 408))
                : reconnectOnEnd)
            ) {
              if (error) throw error
              break
            }
            const now = Date.now()
            failingSince ??= now
            if (++attempt > maxRetries || now - failingSince > maxElapsedMs) {
              throw new SseError('retries-exhausted', `Gave up after ${attempt - 1} retries`, {
                cause: error,
                status: error?.status,
              })
            }
            const backoffMs = backoffDelay(
              attempt,
              serverRetryMs ?? retryMs,
              Math.max(maxRetryMs, serverRetryMs ?? 0),
              Math.random,
              // A server's `retry: 0` must not make failures spin; a low `retryMs` is the
              // caller's own choice.
              Math.min(retryMs, minGrowthMs),
            )
            // `Retry-After` is the wait the server asked for; when failures go on, never shorter
            // than the backoff, so a server that keeps answering `Retry-After: 0` is not hammered.
            const delayMs =
              retryAfterMs === undefined
                ? backoffMs
                : attempt === 1
                  ? retryAfterMs
                  : Math.max(retryAfterMs, backoffMs)
            retryAfterMs = undefined
            onRetry?.({ attempt, delayMs, error })
            // A callback above may have closed the stream; else end() cuts the wait short.
            if (finished) break
            await new Promise((resolve, reject) => {
              const timer = setTimeout(resolve, delayMs)
              wake = () => {
                clearTimeout(timer)
                reject()
              }
            })
            if (resume) {
              const resumed = await interruptible(resume({ lastEventId, attempt, error }))
              if (resumed == null) {
                if (error) throw error
                break
              }
              target = resumed
              // A Request is taken as it is: options passed along would override its own.
              options = typeof (resumed as Partial<Request>).clone === 'function' ? {} : resumeInit
            }
          }
          // Passing `headers` replaces a Request's own, so start from them.
          const headers = new Headers((target as Partial<Request>).headers)
          const extra =
            typeof headersOption === 'function'
              ? await interruptible(headersOption())
              : headersOption
          for (const [name, value] of new Headers(extra)) headers.set(name, value)
          if (!headers.has('accept')) headers.set('accept', 'text/event-stream')
          if (lastEventId) {
            // HTTP allows no control character but tab in a header value (Node's fetch refuses the
            // request before sending it): retrying could never reach the server.
            // biome-ignore lint/suspicious/noControlCharactersInRegex: they are what is refused
            if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(lastEventId)) {
              throw new SseError(
                'invalid-field',
                `No header can carry the last event id ${JSON.stringify(lastEventId)}`,
                { field: 'id' },
              )
            }
            headers.set('last-event-id', utf8ByteString(lastEventId))
          }
          if (finished) break
          requests++
          const controller = new AbortController()
          connection = controller
          // A Request's body can be read only once: one that may be sent again goes out as a copy.
          const outgoing =
            target === input && resends && typeof (input as Request).clone === 'function'
              ? (input as Request).clone()
              : target
          // (A fetch that throws at once fails like one that rejects.)
          const pending = new Promise<Response>((resolve) =>
            resolve(
              (fetchOption ?? fetch)(outgoing, { ...options, headers, signal: controller.signal }),
            ),
          )
          const response = await watch(() => interruptible(pending), 'Request failed')
          if (response instanceof SseError) {
            error = response
            // A fetch that ignored the abort may answer late: that response is not used, so free it.
            pending.then((late) => late.body?.cancel().catch(noop), noop)
          } else if (finished || response.status === 204) {
            response.body?.cancel().catch(noop)
            break
          } else {
            const { status, headers: responseHeaders, body } = response
            const contentType = responseHeaders.get('content-type') ?? ''
            // The MIME type's essence, whatever its case and parameters.
            if (status !== 200 || !/^\s*text\/event-stream\s*(;|$)/i.test(contentType)) {
              const details = {
                status,
                headers: responseHeaders,
                body: await snippet(
                  body,
                  Math.min(idleTimeoutMs || 5000, maxTimerMs),
                  controller.signal,
                ),
              }
              if (status === 429 || status === 503) {
                retryAfterMs = parseRetryAfter(responseHeaders.get('retry-after'), Date.now())
              }
              error =
                status === 200
                  ? new SseError(
                      'bad-content-type',
                      `Content type ${contentType}, not text/event-stream`,
                      details,
                    )
                  : new SseError('bad-status', `HTTP ${status}`, details)
            } else if (body) {
              parser.reset()
              reader = body.getReader()
              openedAt = lastReadAt = Date.now()
              delivered = false
              onOpen?.(response)
            } else {
              // React Native's fetch, for one, never streams: reconnecting would loop for nothing.
              throw new TypeError('fetchEventStream needs a fetch that streams response bodies')
            }
          }
        }
      }
    } catch (caught) {
      if (!finished) {
        end(caught)
        throw caught
      }
    }
    end()
    if (aborted) throw aborted.reason
  }
  const events = run()

  return {
    next: () => (aborted ? Promise.reject(aborted.reason) : events.next()),
    async return() {
      end()
      return { done: true, value: undefined }
    },
    [Symbol.asyncIterator]() {
      return this
    },
    close() {
      end()
    },
    async [Symbol.asyncDispose]() {
      end()
    },
    get lastEventId() {
      return parser.lastEventId
    },
    get retryMs() {
      return serverRetryMs ?? retryMs
    },
  }
}

/** The start of an error response's body, read for at most `timeoutMs` or until `signal` aborts. */
async function snippet(
  body: ReadableStream<Uint8Array> | null,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<string> {
  let text = ''
  if (body) {
    const reader = body.getReader()
    const decoder = new TextDecoder()
    // Cancelling settles a pending read at once, even from a body that ignores the abort.
    const stop = (): void => void reader.cancel().catch(noop)
    const timer = setTimeout(stop, timeoutMs)
    signal.addEventListener('abort', stop)
    try {
      while (text.length < SNIPPET_LENGTH) {
        const { done, value } = await reader.read()
        if (done) break
        text += decoder.decode(value, { stream: true })
      }
    } catch {
      // The start of the body is a courtesy; the status already says what went wrong.
    } finally {
      clearTimeout(timer)
      signal.removeEventListener('abort', stop)
      reader.cancel().catch(noop)
    }
  }
  return text.slice(0, SNIPPET_LENGTH)
}

const encoder = new TextEncoder()

/**
 * `text` as its UTF-8 bytes, one character per byte: how a `Headers` value carries bytes past ASCII
 * (the spec sends `Last-Event-ID` in UTF-8; a character past U+00FF would make `Headers` throw).
 */
function utf8ByteString(text: string): string {
  // (Once per connection: no fast path for ASCII.)
  let bytes = ''
  for (const byte of encoder.encode(text)) bytes += String.fromCharCode(byte)
  return bytes
}

function nonNegative(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new TypeError(`${name} must be a number >= 0, got ${value}`)
  }
  return value
}
