import {
  type EventStreamResponseInit,
  type EventStreamSource,
  eventStreamResponse,
} from '@ssekit/core'
import type { Context } from 'hono'
import { keepBunStreamOpen } from './_bun.ts'
import { sendOnNodeServer } from './_node-server.ts'

/**
 * Options of {@link sse}: those of `eventStreamResponse` (the stream's options plus `status` and
 * `headers`). `lastEventId` defaults to the request's `Last-Event-ID` header (or `lastEventId`
 * query parameter); `signal` is combined with the request's own abort signal.
 *
 * @example
 * ```ts
 * import type { SseOptions } from '@ssekit/hono'
 *
 * const options: SseOptions = { retry: 3000, heartbeat: 10_000, onClose: ({ reason }) => console.log(reason) }
 * ```
 * @public
 */
export type SseOptions = Omit<EventStreamResponseInit, 'request'>

/**
 * Answers a Hono request with a Server-Sent Events stream of `source`.
 *
 * Glue over `@ssekit/core`: the client's last event id is read from the request and handed to the
 * source, the source's `signal` aborts when the client leaves (the response body is cancelled or
 * the request aborts, on Node, workerd, Bun and Deno), the headers are the core's (`no-transform`,
 * so Hono's `compress()` leaves the stream alone, and no `Connection`/`Transfer-Encoding`, so
 * HTTP/2 works), a source error never reaches the client unless `onError` returns an event, and on
 * Bun the per-request idle timeout is lifted so a quiet stream is not cut after 10 s.
 *
 * On Cloudflare Workers, set the `enable_request_signal` compatibility flag: without it workerd
 * never tells a Worker that its client left, and the source would run on.
 *
 * @param c - the Hono context of the request
 * @param source - an (async) iterable of events, or a function of `{ signal, lastEventId }` returning one
 * @param options - `retry`, `heartbeat`, `highWaterMark`, `onError`, `onOpen`, `onClose`, …
 * @returns the streaming `Response`; headers set earlier with `c.header()` are kept
 *
 * @example
 * ```ts
 * import { Hono } from 'hono'
 * import { sse } from '@ssekit/hono'
 *
 * const app = new Hono()
 * app.get('/events', (c) =>
 *   sse(c, async function* ({ signal, lastEventId }) {
 *     for (let id = Number(lastEventId ?? 0) + 1; !signal.aborted; id++) {
 *       yield { id: String(id), data: { time: Date.now() } }
 *       await new Promise((resolve) => setTimeout(resolve, 1000))
 *     }
 *   }),
 * )
 * export default app
 * ```
 * @public
 */
export function sse(c: Context, source: EventStreamSource, options: SseOptions = {}): Response {
  if (!((c as Partial<Context> | undefined)?.req?.raw instanceof Request)) {
    throw new TypeError(
      "sse(c, source) needs the handler's Hono Context first, as in app.get('/events', (c) => sse(c, source))",
    )
  }
  const sentOnNode = sendOnNodeServer(c, source, options)
  if (sentOnNode !== undefined) return sentOnNode
  keepBunStreamOpen(c)
  const response = eventStreamResponse(source, { ...options, request: c.req.raw })
  // Through c.body() rather than returned as is, so headers middleware set with c.header() stay.
  return c.body(response.body as ReadableStream<Uint8Array>, response)
}
