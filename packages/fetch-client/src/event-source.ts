import type { SseError } from '@ssekit/core'
import { type FetchEventStreamInit, fetchEventStream } from './fetch-event-stream.ts'

/**
 * The options of {@link EventSource}: the browser's `withCredentials`, plus what the browser's
 * lacks: `headers` (or a function for fresh tokens), `method`, `body`, a custom `fetch`, an idle
 * timeout, limits and the backoff settings of {@link fetchEventStream}.
 *
 * @example
 * ```ts
 * import { EventSource, type EventSourceInit } from '@ssekit/fetch-client'
 *
 * const init: EventSourceInit = { headers: { authorization: 'Bearer token' }, idleTimeoutMs: 45_000 }
 * const source = new EventSource('/events', init)
 * ```
 * @public
 */
export interface EventSourceInit
  extends Pick<
    FetchEventStreamInit,
    | 'headers'
    | 'method'
    | 'body'
    | 'fetch'
    | 'initialLastEventId'
    | 'idleTimeoutMs'
    | 'retryMs'
    | 'maxRetryMs'
    | 'maxRetries'
    | 'maxElapsedMs'
    | 'healthyAfterMs'
    | 'maxLineBytes'
    | 'maxEventBytes'
  > {
  /** Sends cookies cross-origin (`credentials: 'include'`); otherwise `same-origin`. */
  withCredentials?: boolean | undefined
}

type Handler = ((this: EventSource, event: Event) => unknown) | null
type HandlerType = 'open' | 'message' | 'error'

/**
 * A drop-in `EventSource` with the browser's API (`onopen`, `onmessage`, `onerror`,
 * `addEventListener`, `readyState`, `url`, `withCredentials`, `close()`) that runs wherever
 * `fetch` does and also takes `headers`, `method`, `body` and `fetch`. It behaves as the spec
 * says: it fails for good (readyState `CLOSED`) on a status other than 200 or a type other than
 * `text/event-stream`, and reestablishes the connection (with `Last-Event-ID`) after a network
 * error or the end of the body, with backoff and jitter on top of the server's `retry:`.
 *
 * @example
 * ```ts
 * import { EventSource } from '@ssekit/fetch-client'
 *
 * const source = new EventSource('https://example.com/events', {
 *   headers: { authorization: 'Bearer token' },
 * })
 * source.addEventListener('update', (event) => console.log((event as MessageEvent).data))
 * source.onerror = () => console.log('readyState', source.readyState)
 * ```
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#the-eventsource-interface
 * @public
 */
export class EventSource extends EventTarget {
  static readonly CONNECTING = 0
  static readonly OPEN = 1
  static readonly CLOSED = 2
  readonly CONNECTING = 0
  readonly OPEN = 1
  readonly CLOSED = 2

  /** The absolute URL of the stream. */
  readonly url: string
  /** Whether cookies are sent cross-origin. */
  readonly withCredentials: boolean
  #readyState: 0 | 1 | 2 = 0
  readonly #client: ReturnType<typeof fetchEventStream>
  readonly #handlers: Record<HandlerType, Handler> = {
    open: null,
    message: null,
    error: null,
  }
  /** The listener that runs each handler, in the listener list while the handler is set. */
  readonly #handlerListeners: Record<HandlerType, ((event: Event) => void) | undefined> = {
    open: undefined,
    message: undefined,
    error: undefined,
  }
  /** For `MessageEvent.origin`: that of the connection's final URL, after redirects. */
  #origin: string

  constructor(url: string | URL, init: EventSourceInit = {}) {
    super()
    const base = (globalThis as { location?: { href: string } }).location?.href
    let parsed: URL
    try {
      parsed = new URL(url, base)
    } catch (cause) {
      throw new DOMException(
        `EventSource: ${String(url)} is not a valid URL (${String(cause)})`,
        'SyntaxError',
      )
    }
    this.url = parsed.href
    this.withCredentials = init.withCredentials === true
    this.#origin = parsed.origin
    const { withCredentials: _, ...rest } = init
    this.#client = fetchEventStream(this.url, {
      ...rest,
      // fetch's default is already 'same-origin'; leaving it unset keeps runtimes without the
      // option (workerd) working.
      ...(this.withCredentials ? { credentials: 'include' as const } : {}),
      reconnect: 'always',
      // The spec fails for good on any bad response; only the connection itself is retried.
      shouldRetry: (error: SseError) => error.code === 'network' || error.code === 'idle-timeout',
      onOpen: (response) => {
        if (this.#readyState === 2) return
        // A Response made by a custom fetch has an empty url (a stand-in, none at all).
        if (response.url) this.#origin = new URL(response.url).origin
        this.#readyState = 1
        this.dispatchEvent(new Event('open'))
      },
      onRetry: () => {
        if (this.#readyState === 2) return
        this.#readyState = 0
        this.dispatchEvent(new Event('error'))
      },
    })
    void this.#run()
  }

  /** `CONNECTING` (0), `OPEN` (1) or `CLOSED` (2). */
  get readyState(): 0 | 1 | 2 {
    return this.#readyState
  }

  get onopen(): Handler {
    return this.#handlers.open
  }
  set onopen(handler: Handler) {
    this.#setHandler('open', handler)
  }
  get onmessage(): Handler {
    return this.#handlers.message
  }
  set onmessage(handler: Handler) {
    this.#setHandler('message', handler)
  }
  get onerror(): Handler {
    return this.#handlers.error
  }
  set onerror(handler: Handler) {
    this.#setHandler('error', handler)
  }

  /** Closes the connection for good: no more events, no reconnect. */
  close(): void {
    this.#readyState = 2
    this.#client.close()
  }

  /**
   * As HTML's event handler attributes: the handler's listener joins the list when the handler is
   * first set, so it runs in registration order among `addEventListener` listeners, keeps its place
   * when replaced, and leaves when set to null. Anything not callable counts as null, as
   * `[LegacyTreatNonObjectAsNull]` does for non-objects, so no dispatch calls a non-function.
   * @see https://html.spec.whatwg.org/multipage/webappapis.html#event-handler-attributes
   */
  #setHandler(type: HandlerType, handler: Handler): void {
    const callable = typeof handler === 'function' ? handler : null
    this.#handlers[type] = callable
    const listener = this.#handlerListeners[type]
    if (callable !== null && listener === undefined) {
      const added = (event: Event): void => void this.#handlers[type]?.call(this, event)
      this.#handlerListeners[type] = added
      this.addEventListener(type, added)
    } else if (callable === null && listener !== undefined) {
      this.#handlerListeners[type] = undefined
      this.removeEventListener(type, listener)
    }
  }

  async #run(): Promise<void> {
    try {
      for await (const event of this.#client) {
        if (this.#readyState === 2) return
        this.dispatchEvent(
          new MessageEvent(event.type, {
            data: event.data,
            lastEventId: event.lastEventId,
            origin: this.#origin,
          }),
        )
      }
    } catch {
      // The spec's "fail the connection": a plain `error` event, then CLOSED.
    }
    if (this.#readyState === 2) return
    this.#readyState = 2
    this.dispatchEvent(new Event('error'))
  }
}
