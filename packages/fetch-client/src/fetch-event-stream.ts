import { type EventMap as CoreEventMap, SseError } from '@ssekit/core'
import { backoffDelay, parseRetryAfter, sleep } from './_backoff.ts'
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
  /** The reconnection attempt, from 1; reset once a connection delivered an event. */
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
  /** Aborting it cancels the body, clears every timer and rejects the pending `next()` with its reason. */
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
   * - `'always'`: reconnect whatever the method (re-sends a POST: use only for idempotent POSTs).
   * - `'never'`: one request; errors are thrown, a normal end ends the iteration.
   * @defaultValue 'auto'
   */
  reconnect?: 'auto' | 'always' | 'never' | undefined
  /**
   * Continues a broken stream with another request (typically a GET of a resume endpoint, which
   * gets `Last-Event-ID`), instead of re-sending the original: so a dropped LLM answer is picked
   * up where it stopped, not generated and paid for twice. Return `undefined` to give up.
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

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined }
const SNIPPET_BYTES = 1024
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS'])
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
 * `retries-exhausted` (with the last error as `cause`). An aborted `signal` rejects with its reason.
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
    signal,
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
    idleTimeoutMs: idleTimeoutOption,
    maxLineBytes,
    maxEventBytes,
    ...requestInit
  } = init
  if (input === undefined || input === null || input === '') {
    throw new TypeError('fetchEventStream(input, init) needs a URL or a Request')
  }
  const retryMs = nonNegative(retryMsOption, 'retryMs', 1000)
  const maxRetryMs = nonNegative(maxRetryMsOption, 'maxRetryMs', 30_000)
  const maxRetries = nonNegative(maxRetriesOption, 'maxRetries', Number.POSITIVE_INFINITY)
  const maxElapsedMs = nonNegative(maxElapsedMsOption, 'maxElapsedMs', Number.POSITIVE_INFINITY)
  const idleTimeoutMs = nonNegative(idleTimeoutOption, 'idleTimeoutMs', 0)
  if (reconnect !== 'auto' && reconnect !== 'always' && reconnect !== 'never') {
    throw new TypeError(`reconnect must be 'auto', 'always' or 'never', got ${reconnect}`)
  }
  const fetchImpl: FetchFunction =
    fetchOption ?? ((target, options) => globalThis.fetch(target, options))
  const method = (
    requestInit.method ?? (input instanceof Request ? input.method : 'GET')
  ).toUpperCase()
  const idempotent = IDEMPOTENT.has(method)
  // A normal end of body is a completed answer for a POST; only idempotent streams reestablish.
  const reconnectOnEnd = reconnect === 'always' || (reconnect === 'auto' && idempotent)
  const reconnectOnError =
    reconnect === 'always' || (reconnect === 'auto' && (idempotent || resume !== undefined))

  let queue: ServerSentEvent[] = []
  let head = 0
  let eventsThisConnection = 0
  let serverRetryMs: number | undefined
  let limitError: SseError | undefined
  const parser = createParser({
    lastEventId: initialLastEventId,
    maxLineBytes,
    maxEventBytes,
    onEvent: (event) => {
      queue.push(event)
      eventsThisConnection++
    },
    onRetry: (milliseconds) => {
      serverRetryMs = milliseconds
    },
    onComment,
    onError: (error) => {
      limitError = error as SseError
    },
  })

  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined
  let connection: AbortController | undefined
  let requests = 0
  let attempt = 0
  let failingSince: number | undefined
  let retryAfterMs: number | undefined
  let finished = false
  // Set once by close() or the signal: 'closed' ends quietly, an abort rejects with its reason.
  let ended: { reason: unknown; quiet: boolean } | undefined
  const lifetime = new AbortController()
  let chain: Promise<unknown> = Promise.resolve()
  let busy = false

  const onAbort = (): void => end({ reason: signal?.reason, quiet: false })
  signal?.addEventListener('abort', onAbort, { once: true })

  function end(how: { reason: unknown; quiet: boolean }): void {
    if (ended !== undefined || finished) return
    ended = how
    lifetime.abort(how.reason)
    dropConnection(how.reason)
    cleanup()
  }

  function cleanup(): void {
    finished = true
    queue = []
    head = 0
    signal?.removeEventListener('abort', onAbort)
  }

  function dropConnection(reason?: unknown): void {
    const current = reader
    reader = undefined
    current?.cancel(reason).catch(noop)
    connection?.abort(reason)
    connection = undefined
  }

  function settleEnded(): IteratorResult<Event> {
    if (ended === undefined || ended.quiet) return DONE
    throw ended.reason
  }

  function convert(event: ServerSentEvent): Event {
    if (parse === undefined) return event as Event
    const parseData: ((data: string) => unknown) | undefined =
      parse === 'json'
        ? JSON.parse
        : (parse as Record<string, ((data: string) => unknown) | undefined>)[event.type]
    if (parseData === undefined) return event as Event
    return { ...event, data: parseData(event.data) } as Event
  }

  function willRetry(error: SseError | undefined): boolean {
    if (error === undefined) return reconnectOnEnd
    if (!reconnectOnError) return false
    const decision = shouldRetry?.(error, { attempt: attempt + 1 })
    if (decision !== undefined) return decision
    if (error.code === 'network' || error.code === 'idle-timeout') return true
    if (error.code !== 'bad-status' || error.status === undefined) return false
    return error.status >= 500 || error.status === 429 || error.status === 408
  }

  /** Fails for good, or waits out the backoff before the next attempt. */
  async function recover(error: SseError | undefined): Promise<'retry' | 'done'> {
    dropConnection()
    if (!willRetry(error)) {
      if (error !== undefined) throw error
      return 'done'
    }
    attempt++
    const now = Date.now()
    failingSince ??= now
    if (attempt > maxRetries || now - failingSince > maxElapsedMs) {
      throw new SseError('retries-exhausted', `Gave up after ${attempt - 1} retries`, {
        cause: error,
        status: error?.status,
      })
    }
    const delayMs =
      retryAfterMs ??
      backoffDelay(
        attempt,
        serverRetryMs ?? retryMs,
        Math.max(maxRetryMs, serverRetryMs ?? 0),
        Math.random,
      )
    retryAfterMs = undefined
    onRetry?.({ attempt, delayMs, error })
    await sleep(delayMs, lifetime.signal)
    return 'retry'
  }

  async function request(
    error: SseError | undefined,
  ): Promise<{ target: Request | string | URL; options: RequestInit } | undefined> {
    let target: Request | string | URL = input
    let options: RequestInit = requestInit
    const lastEventId = parser.lastEventId
    if (requests > 0 && resume !== undefined) {
      const resumed = await resume({ lastEventId, attempt, error })
      if (resumed === undefined || resumed === null) return undefined
      target = resumed
      options = {}
    }
    // Passing `headers` replaces a Request's own, so start from them.
    const headers = new Headers(target instanceof Request ? target.headers : undefined)
    const extra = typeof headersOption === 'function' ? await headersOption() : headersOption
    for (const [name, value] of new Headers(extra)) headers.set(name, value)
    if (!headers.has('accept')) headers.set('accept', 'text/event-stream')
    if (lastEventId !== '') headers.set('last-event-id', lastEventId)
    return { target, options: { ...options, headers } }
  }

  /** One connection attempt: a reader on success, else the error to recover from, or `done`. */
  async function connect(
    previousError: SseError | undefined,
  ): Promise<SseError | 'done' | undefined> {
    const next = await request(previousError)
    if (ended) return undefined
    if (next === undefined) return 'done'
    requests++
    const controller = new AbortController()
    connection = controller
    let timedOut = false
    const timer =
      idleTimeoutMs > 0
        ? setTimeout(() => {
            timedOut = true
            controller.abort()
          }, idleTimeoutMs)
        : undefined
    let response: Response
    try {
      response = await fetchImpl(next.target, { ...next.options, signal: controller.signal })
    } catch (cause) {
      if (ended) return undefined
      if (timedOut) return idleError()
      return new SseError('network', `Request failed: ${describe(cause)}`, {
        cause,
      })
    } finally {
      clearTimeout(timer)
    }
    if (ended) {
      response.body?.cancel().catch(noop)
      return undefined
    }
    if (response.status === 204) {
      response.body?.cancel().catch(noop)
      return 'done'
    }
    const contentType = response.headers.get('content-type') ?? ''
    const essence = (contentType.split(';')[0] ?? '').trim().toLowerCase()
    if (response.status !== 200 || essence !== 'text/event-stream') {
      const body = await snippet(response, idleTimeoutMs > 0 ? idleTimeoutMs : 5000)
      if (response.status === 429 || response.status === 503) {
        retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), Date.now())
      }
      return response.status !== 200
        ? new SseError('bad-status', `HTTP ${response.status}`, {
            status: response.status,
            headers: response.headers,
            body,
          })
        : new SseError('bad-content-type', `Content type ${contentType}, not text/event-stream`, {
            status: response.status,
            headers: response.headers,
            body,
          })
    }
    if (response.body === null) {
      // React Native's fetch, for one, never streams: reconnecting would loop for nothing.
      throw new TypeError('fetchEventStream needs a fetch that streams response bodies')
    }
    parser.reset()
    eventsThisConnection = 0
    reader = response.body.getReader()
    onOpen?.(response)
    return undefined
  }

  async function read(
    current: ReadableStreamDefaultReader<Uint8Array>,
  ): Promise<ReadableStreamReadResult<Uint8Array> | SseError> {
    let timedOut = false
    const timer =
      idleTimeoutMs > 0
        ? setTimeout(() => {
            timedOut = true
            dropConnection()
          }, idleTimeoutMs)
        : undefined
    try {
      const result = await current.read()
      return timedOut ? idleError() : result
    } catch (cause) {
      if (timedOut) return idleError()
      return new SseError('network', `Stream broke: ${describe(cause)}`, { cause })
    } finally {
      clearTimeout(timer)
    }
  }

  function idleError(): SseError {
    return new SseError('idle-timeout', `No bytes for ${idleTimeoutMs} ms`)
  }

  async function step(): Promise<IteratorResult<Event>> {
    busy = true
    try {
      let error: SseError | undefined
      for (;;) {
        if (ended || finished) return settleEnded()
        if (head < queue.length)
          return { done: false, value: convert(queue[head++] as ServerSentEvent) }
        queue = []
        head = 0
        const current = reader
        if (current === undefined) {
          if (requests > 0 && (await recover(error)) === 'done') break
          if (ended) return settleEnded()
          const outcome = await connect(error)
          if (outcome === 'done') break
          error = outcome
          continue
        }
        const result = await read(current)
        if (ended) return settleEnded()
        if (eventsThisConnection > 0) {
          attempt = 0
          failingSince = undefined
        }
        if (result instanceof SseError) {
          error = result
          dropConnection()
          continue
        }
        if (result.done) {
          error = undefined
          reader = undefined
          continue
        }
        parser.feed(result.value)
        if (limitError !== undefined) {
          dropConnection(limitError)
          throw limitError
        }
      }
      cleanup()
      return DONE
    } catch (caught) {
      if (ended) return settleEnded()
      dropConnection(caught)
      cleanup()
      throw caught
    } finally {
      busy = false
    }
  }

  const client: EventStreamClient<Event> = {
    next() {
      if (!busy && head < queue.length && !finished) {
        try {
          return Promise.resolve({ done: false, value: convert(queue[head++] as ServerSentEvent) })
        } catch (error) {
          end({ reason: undefined, quiet: true })
          return Promise.reject(error)
        }
      }
      if (signal?.aborted && ended === undefined) end({ reason: signal.reason, quiet: false })
      const result = chain.then(step)
      chain = result.then(noop, noop)
      return result
    },
    async return() {
      end({ reason: undefined, quiet: true })
      return DONE
    },
    [Symbol.asyncIterator]() {
      return this
    },
    close() {
      end({ reason: undefined, quiet: true })
    },
    async [Symbol.asyncDispose]() {
      end({ reason: undefined, quiet: true })
    },
    get lastEventId() {
      return parser.lastEventId
    },
    get retryMs() {
      return serverRetryMs ?? retryMs
    },
  }
  return client
}

async function snippet(response: Response, timeoutMs: number): Promise<string> {
  if (response.body === null) return ''
  const reader = response.body.getReader()
  const decoder = new TextDecoder()
  let text = ''
  let bytes = 0
  const timer = setTimeout(() => void reader.cancel().catch(noop), timeoutMs)
  try {
    while (bytes < SNIPPET_BYTES) {
      const { done, value } = await reader.read()
      if (done) break
      const part = value.subarray(0, SNIPPET_BYTES - bytes)
      bytes += part.length
      text += decoder.decode(part, { stream: true })
    }
  } catch {
    // The start of the body is a courtesy; the status already says what went wrong.
  } finally {
    clearTimeout(timer)
    reader.cancel().catch(noop)
  }
  return text + decoder.decode()
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause)
}

function nonNegative(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new TypeError(`${name} must be a number >= 0, got ${value}`)
  }
  return value
}
