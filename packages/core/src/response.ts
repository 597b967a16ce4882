import { releaseEventStreamSource } from './_pump.ts'
import { createEventStream, type EventStreamOptions } from './event-stream.ts'
import { lastEventIdFrom, type RequestLike } from './last-event-id.ts'
import type { EventStreamSource } from './types.ts'

/**
 * The response headers of an event stream. `no-transform` keeps compressing proxies and
 * middleware from buffering it; `X-Accel-Buffering: no` does the same for nginx. There is
 * deliberately no `Connection` or `Transfer-Encoding`: they are HTTP/1-only, forbidden in HTTP/2,
 * and belong to the server, not the application.
 *
 * @example
 * ```ts
 * import { createEventStream, eventStreamHeaders } from '@ssekit/core'
 *
 * new Response(createEventStream(source), { headers: eventStreamHeaders })
 * ```
 * @public
 */
export const eventStreamHeaders: Readonly<{
  'Content-Type': 'text/event-stream; charset=utf-8'
  'Cache-Control': 'no-cache, no-transform'
  'X-Accel-Buffering': 'no'
}> = Object.freeze({
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
} as const)

/**
 * Options of {@link eventStreamResponse}: the stream's options, plus the response's.
 *
 * @example
 * ```ts
 * import { eventStreamResponse } from '@ssekit/core'
 *
 * eventStreamResponse(source, {
 *   request,
 *   headers: { 'Access-Control-Allow-Origin': 'https://app.example' },
 *   retry: 3_000,
 * })
 * ```
 * @public
 */
export interface EventStreamResponseInit extends EventStreamOptions {
  /** The response status. @defaultValue 200 */
  status?: number | undefined
  /** Extra headers (CORS, say); they override the defaults, except that `Connection` and `Transfer-Encoding` are always dropped. */
  headers?: HeadersInit | undefined
  /**
   * The request being answered. Its `Last-Event-ID` (see {@link lastEventIdFrom}) becomes the
   * stream's `lastEventId` unless one is given, and its `signal` ends the stream. A `HEAD` request
   * gets the headers alone: the source is released (see `releaseEventStreamSource`), never read.
   */
  request?:
    | (RequestLike & { signal?: AbortSignal | undefined; method?: string | undefined })
    | undefined
}

/**
 * A `Response` that streams `source` as Server-Sent Events, for any Fetch-style server (Workers,
 * Deno, Bun, Hono, Next.js route handlers).
 *
 * @param source - An async or sync iterable of events, or a function `({ signal, lastEventId }) => iterable`.
 * @param init - Status, headers, the `request`, and every {@link createEventStream} option.
 * @returns A `Response` with {@link eventStreamHeaders} and a pull-based body.
 * @example
 * ```ts
 * import { eventStreamResponse } from '@ssekit/core'
 *
 * export default {
 *   fetch(request: Request) {
 *     return eventStreamResponse(
 *       async function* ({ lastEventId, signal }) {
 *         for (let id = Number(lastEventId ?? 0) + 1; !signal.aborted; id++) {
 *           yield { id: String(id), data: { id } }
 *           await new Promise((resolve) => setTimeout(resolve, 1000))
 *         }
 *       },
 *       { request, onClose: (summary) => console.log('stream closed', summary) },
 *     )
 *   },
 * }
 * ```
 * @public
 */
export function eventStreamResponse(
  source: EventStreamSource,
  init: EventStreamResponseInit = {},
): Response {
  const { status = 200, headers, request, ...options } = init
  if (request !== undefined) {
    if (options.lastEventId === undefined) {
      const lastEventId = lastEventIdFrom(request)
      if (lastEventId !== undefined) options.lastEventId = lastEventId
    }
    const requestSignal = request.signal
    if (requestSignal !== undefined) {
      options.signal =
        options.signal === undefined
          ? requestSignal
          : AbortSignal.any([options.signal, requestSignal])
    }
  }
  const responseHeaders = new Headers(eventStreamHeaders)
  if (headers !== undefined) {
    for (const [name, value] of new Headers(headers)) responseHeaders.set(name, value)
  }
  responseHeaders.delete('connection')
  responseHeaders.delete('transfer-encoding')
  if (request?.method === 'HEAD') {
    // The headers alone. A runtime would drop the body itself, but never cancel it: the source
    // (a hub subscription, say) would stay attached for good.
    void releaseEventStreamSource(source)
    return new Response(null, { status, headers: responseHeaders })
  }
  return new Response(createEventStream(source, options), { status, headers: responseHeaders })
}
