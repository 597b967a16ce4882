import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2'
import {
  type CloseReason,
  type EventStreamSource,
  eventStreamHeaders,
  lastEventIdFrom,
} from '@ssekit/core'
import {
  createEventPump,
  type EventPumpOptions,
  releaseEventStreamSource,
} from '@ssekit/core/adapter'
import { createByteStreamPump } from './_byte-stream-pump.ts'
import { type ResponseHeaders, ResponseStream, type ResponseTarget } from './_response-stream.ts'

/**
 * Options of {@link sendEventStream}: the stream options of `createEventStream` (`retry`,
 * `heartbeat`, `highWaterMark`, `signal`, `onError`, `onOpen`, `onClose`) plus what only a node
 * response has.
 *
 * @example
 * ```ts
 * sendEventStream(request, response, source, {
 *   retry: 2_000,
 *   headers: { 'Access-Control-Allow-Origin': 'https://app.example.com' },
 *   onClose: ({ reason, events }) => logger.info({ reason, events }, 'stream closed'),
 * })
 * ```
 * @public
 */
export interface SendEventStreamOptions extends EventPumpOptions {
  /**
   * The client's last event id, handed to a source function. Defaults to the request's
   * `Last-Event-ID` header, else its `lastEventId` query parameter.
   */
  lastEventId?: string | undefined
  /**
   * Extra response headers (CORS, say); a list sends the header once per value (`Set-Cookie`).
   * They cannot replace the framing: `Content-Length` and `Transfer-Encoding` are refused, and
   * connection-specific headers are dropped on HTTP/2.
   */
  headers?: Readonly<Record<string, string | readonly string[]>> | undefined
  /**
   * Milliseconds a client may leave the response's buffer full (no `drain`) before its connection
   * is destroyed, so that a stalled reader cannot hold a socket and its buffers forever. `false`
   * waits without limit.
   * @defaultValue 30000
   */
  drainTimeout?: number | false | undefined
}

/**
 * A node:http or http2 (compatibility API) request; Express's and Fastify's `request.raw` are ones.
 *
 * @example
 * ```ts
 * const handler = (request: NodeRequest, response: NodeResponse) =>
 *   sendEventStream(request, response, source)
 * ```
 * @public
 */
export type NodeRequest = IncomingMessage | Http2ServerRequest
/**
 * A node:http or http2 (compatibility API) response; see {@link NodeRequest}.
 *
 * @example
 * ```ts
 * http2.createServer((request, response: NodeResponse) => sendEventStream(request, response, source))
 * ```
 * @public
 */
export type NodeResponse = ServerResponse | Http2ServerResponse

const pumpOnlyOptions = [
  'retry',
  'heartbeat',
  'highWaterMark',
  'lastEventId',
  'onError',
  'onOpen',
  'onClose',
  'maxLifetime',
  'lifetimeJitter',
] as const

// One object for every call without options: the pump keeps its options for the stream's life.
const noOptions: SendEventStreamOptions = Object.freeze({})

const connectionHeaders = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
])

/**
 * Serves an event stream on a node:http `ServerResponse` or an http2 `Http2ServerResponse`
 * (so also on Express, Fastify's `reply.raw`, Koa's `ctx.res`): the core pump writes straight into
 * `response.write()`, reads the source again only after `drain`, and stops the source (its
 * `return()` runs, its `signal` aborts) as soon as the client goes away.
 *
 * Sends `200` with core's `eventStreamHeaders` (node adds `Connection` on HTTP/1.x as the request
 * allows; none is ever sent on HTTP/2, where it is a protocol error), flushes the headers at once, turns the socket's
 * idle timeout off and Nagle's algorithm off, and calls `response.flush()` after every write when
 * it exists, so Express's `compression()` cannot hold events back.
 *
 * @param request - the request; its `Last-Event-ID` header (else `?lastEventId=`) reaches the source.
 * @param response - the response, untouched so far.
 * @param source - events (an async or sync iterable, or a function of `{ signal, lastEventId }`
 *   returning one), or an already-encoded `ReadableStream<Uint8Array>` from `createEventStream`.
 * @param options - stream options; with a `ReadableStream` only `headers`, `signal` and
 *   `drainTimeout` apply (the rest were given to `createEventStream`).
 * @returns a promise that settles, never rejects, once the stream is over and the source's
 *   cleanup ran, with why it ended: `end`, `cancel` (the client left), `error`, `abort`, `shutdown`.
 * @throws TypeError when an argument cannot work (a response already sent, a string as source).
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http'
 * import { sendEventStream } from '@ssekit/node'
 *
 * createServer((request, response) => {
 *   sendEventStream(request, response, async function* ({ signal, lastEventId }) {
 *     let id = Number(lastEventId ?? 0)
 *     while (!signal.aborted) {
 *       yield { event: 'tick', id: String(++id), data: { at: Date.now() } }
 *       await new Promise((resolve) => setTimeout(resolve, 1000))
 *     }
 *   })
 * }).listen(3000)
 * ```
 * @public
 */
export function sendEventStream(
  request: NodeRequest,
  response: NodeResponse,
  source: EventStreamSource | ReadableStream<Uint8Array>,
  options: SendEventStreamOptions = noOptions,
): Promise<CloseReason> {
  const stream = startStream(request, response, source, options)
  return stream instanceof ResponseStream ? stream.settled : stream.then(endReason)
}

const endReason = (): CloseReason => 'end'

/**
 * {@link sendEventStream} for a caller that does not wait for the stream's end: the same stream,
 * without the promise (and the resolve function it holds) that would live as long as the
 * connection. What `@ssekit/hono` uses on `@hono/node-server`.
 *
 * @throws TypeError when an argument cannot work, as `sendEventStream` does.
 * @example
 * ```ts
 * startEventStream(request, response, ({ lastEventId }) => hub.subscribe('news', { lastEventId }))
 * ```
 * @public
 */
export function startEventStream(
  request: NodeRequest,
  response: NodeResponse,
  source: EventStreamSource | ReadableStream<Uint8Array>,
  options: SendEventStreamOptions = noOptions,
): void {
  startStream(request, response, source, options)
}

/**
 * Starts the stream; for a HEAD request, answered with the headers alone, the source's release
 * instead.
 */
function startStream(
  request: NodeRequest,
  response: NodeResponse,
  source: EventStreamSource | ReadableStream<Uint8Array>,
  options: SendEventStreamOptions,
): ResponseStream | Promise<void> {
  const target = response as unknown as ResponseTarget
  const byteStream = isByteStream(source)
  assertArguments(request, target, source, byteStream, options)

  const headers = responseHeaders(request.httpVersionMajor < 2, options.headers)
  if (request.method === 'HEAD') {
    // node drops a HEAD response's body and reports every write as a success, so a source would
    // run unchecked (an infinite sync one would block the process): answer the headers, start nothing.
    target.writeHead(200, headers)
    target.end()
    return releaseEventStreamSource(source)
  }

  const stream = new ResponseStream(
    request,
    target,
    headers,
    options.drainTimeout ?? 30_000,
    byteStream,
  )
  if (byteStream) {
    stream.pump = createByteStreamPump(
      source,
      stream,
      (summary) => stream.onEnd(summary),
      options.signal,
    )
  } else {
    // The pump reports its end to the stream itself (its sink's `onEnd`), so the options object
    // is copied only to add a Last-Event-ID the request carries: most connections cost no copy.
    const lastEventId = options.lastEventId === undefined ? lastEventIdFrom(request) : undefined
    stream.pump = createEventPump(
      source,
      stream,
      lastEventId === undefined ? options : { ...options, lastEventId },
    )
  }
  stream.start()
  return stream
}

function isByteStream(source: unknown): source is ReadableStream<Uint8Array> {
  return (
    typeof source === 'object' &&
    source !== null &&
    typeof (source as ReadableStream).getReader === 'function'
  )
}

function assertArguments(
  request: NodeRequest,
  response: ResponseTarget,
  source: unknown,
  byteStream: boolean,
  options: SendEventStreamOptions,
): void {
  if (typeof request !== 'object' || request === null || typeof request.headers !== 'object') {
    throw new TypeError(
      'sendEventStream: `request` must be the node:http (or http2) request, as in sendEventStream(request, response, source)',
    )
  }
  if (typeof response !== 'object' || response === null || typeof response.write !== 'function') {
    throw new TypeError(
      'sendEventStream: `response` must be the node:http (or http2) response, as in sendEventStream(request, response, source)',
    )
  }
  if (response.headersSent || response.writableEnded) {
    throw new TypeError(
      'sendEventStream: the response was already sent or ended; call sendEventStream before writing anything to it',
    )
  }
  const iterable =
    typeof source === 'object' &&
    source !== null &&
    (Symbol.asyncIterator in source || Symbol.iterator in source)
  if (!byteStream && !iterable && typeof source !== 'function') {
    throw new TypeError(
      `sendEventStream: \`source\` must be an (async) iterable of events, a function returning one, or a ReadableStream<Uint8Array>; got ${typeof source === 'string' ? 'a string (wrap it: [{ data: text }])' : String(source)}`,
    )
  }
  if (byteStream) {
    const given = pumpOnlyOptions.filter((name) => options[name] !== undefined)
    if (given.length > 0) {
      throw new TypeError(
        `sendEventStream: ${given.join(', ')} cannot apply to a ReadableStream source; pass them to createEventStream(source, options) instead`,
      )
    }
  }
  const drainTimeout = options.drainTimeout
  if (
    drainTimeout !== undefined &&
    drainTimeout !== false &&
    !(Number.isFinite(drainTimeout) && drainTimeout > 0)
  ) {
    throw new TypeError(
      `sendEventStream: \`drainTimeout\` must be a positive number of milliseconds or false; got ${String(drainTimeout)}`,
    )
  }
}

// Shared by every stream that adds no header of its own (node only reads them). No `Connection`:
// node sends `keep-alive` itself when the connection persists, and `close` when the client asked
// for it or speaks HTTP/1.0, which a header of ours would contradict.
const defaultHeaders: ResponseHeaders = eventStreamHeaders

function responseHeaders(
  http1: boolean,
  extra: SendEventStreamOptions['headers'],
): ResponseHeaders {
  if (extra === undefined) return defaultHeaders
  const headers: Record<string, string | readonly string[]> = { ...defaultHeaders }
  for (const [name, value] of Object.entries(extra)) {
    const lowerName = name.toLowerCase()
    // Header names are case-insensitive: one given as `cache-control` replaces the default
    // `Cache-Control` rather than going out beside it.
    for (const key of Object.keys(headers)) {
      if (key !== name && key.toLowerCase() === lowerName) delete headers[key]
    }
    if (lowerName === 'content-length' || lowerName === 'transfer-encoding') {
      throw new TypeError(
        `sendEventStream: the \`${name}\` header would break a streamed response; leave the framing to node`,
      )
    }
    if (!http1 && connectionHeaders.has(lowerName)) continue
    headers[name] = value
  }
  return headers
}
