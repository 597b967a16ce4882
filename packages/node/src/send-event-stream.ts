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
  type EventPump,
  type EventPumpOptions,
  type EventSink,
} from '@ssekit/core/adapter'
import { createByteStreamPump } from './_byte-stream-pump.ts'
import { type OpenEventStream, openEventStreams } from './_registry.ts'

/**
 * Options of {@link sendEventStream}: the stream options of `createEventStream` (`retry`,
 * `heartbeat`, `highWaterMark`, `signal`, `onError`, `onOpen`, `onClose`) plus what only a node
 * response has.
 * @public
 */
export interface SendEventStreamOptions extends EventPumpOptions {
  /**
   * The client's last event id, handed to a source function. Defaults to the request's
   * `Last-Event-ID` header, else its `lastEventId` query parameter.
   */
  lastEventId?: string | undefined
  /**
   * Extra response headers (CORS, say). They cannot replace the framing: `Content-Length` and
   * `Transfer-Encoding` are refused, and connection-specific headers are dropped on HTTP/2.
   */
  headers?: Readonly<Record<string, string>> | undefined
  /**
   * Milliseconds a client may leave the response's buffer full (no `drain`) before its connection
   * is destroyed, so that a stalled reader cannot hold a socket and its buffers forever. `false`
   * waits without limit.
   * @defaultValue 30000
   */
  drainTimeout?: number | false | undefined
}

/** A node:http or http2 (compatibility API) request. @public */
export type NodeRequest = IncomingMessage | Http2ServerRequest
/** A node:http or http2 (compatibility API) response. @public */
export type NodeResponse = ServerResponse | Http2ServerResponse

/** The part of both response classes (and of Express's wrapped one) this module uses. */
interface ResponseTarget {
  write(chunk: Uint8Array): boolean
  end(): unknown
  writeHead(status: number, headers: Record<string, string>): unknown
  flushHeaders(): void
  destroy(error?: Error): unknown
  on(event: string, listener: () => void): unknown
  off(event: string, listener: () => void): unknown
  readonly headersSent: boolean
  readonly writableEnded: boolean
  readonly destroyed?: boolean | undefined
  /** Added by Express's `compression()`: pushes what zlib holds to the socket. */
  flush?: (() => void) | undefined
  /** Only on `Http2ServerResponse`. */
  readonly stream?: { destroyed: boolean; closed: boolean; setTimeout(ms: number): unknown }
}

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
 * Sends `200` with core's `eventStreamHeaders`, plus `Connection: keep-alive` on HTTP/1.x only
 * (never on HTTP/2, where it is a protocol error), flushes the headers at once, turns the socket's
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
  options: SendEventStreamOptions = {},
): Promise<CloseReason> {
  const target = response as unknown as ResponseTarget
  const byteStream = isByteStream(source)
  assertArguments(request, target, source, byteStream, options)

  const headers = responseHeaders(request.httpVersionMajor < 2, options.headers)
  if (request.method === 'HEAD') {
    // node drops a HEAD response's body and reports every write as a success, so a source would
    // run unchecked (an infinite sync one would block the process): answer the headers, start nothing.
    target.writeHead(200, headers)
    target.end()
    return Promise.resolve('end')
  }
  const drainTimeout = options.drainTimeout ?? 30_000
  let headWritten = false
  let ended = false
  let gone = false
  let stallTimer: ReturnType<typeof setTimeout> | undefined
  let pumpDone = false
  let responseDone = false
  let reason: CloseReason = 'cancel'
  let settled = false
  let resolveSettled: (reason: CloseReason) => void = () => {}
  const settledPromise = new Promise<CloseReason>((resolve) => {
    resolveSettled = resolve
  })

  const writeHead = (): void => {
    if (headWritten) return
    headWritten = true
    target.writeHead(200, headers)
    target.flushHeaders()
  }

  const onStalled = (): void => {
    stallTimer = undefined
    target.destroy()
  }

  const sink: EventSink = {
    write(chunk) {
      if (gone || ended) return false
      writeHead()
      const hasRoom = target.write(chunk)
      target.flush?.()
      if (!hasRoom && drainTimeout !== false && stallTimer === undefined) {
        stallTimer = setTimeout(onStalled, drainTimeout)
      }
      return hasRoom
    },
    close: () => endResponse(),
    // The headers are out, so a failure can only end the response; an SSE client treats an ended
    // and a broken stream alike (it reconnects), and a clean end keeps proxies' connections usable.
    error: () => endResponse(),
  }

  function endResponse(): void {
    if (ended) return
    ended = true
    if (gone) return
    writeHead()
    target.end()
  }

  function settle(): void {
    if (settled || !pumpDone || !responseDone) return
    settled = true
    if (stallTimer !== undefined) clearTimeout(stallTimer)
    target.off('drain', onDrain)
    target.off('finish', onFinish)
    target.off('close', onGone)
    target.off('error', onGone)
    openEventStreams.delete(entry)
    // Once the pump has closed, cancel() only returns its cleanup: the source's return().
    void pump.cancel().then(() => resolveSettled(reason))
  }

  const onPumpClosed = (closeReason: CloseReason): void => {
    reason = closeReason
    pumpDone = true
    settle()
  }

  const onDrain = (): void => {
    if (stallTimer !== undefined) {
      clearTimeout(stallTimer)
      stallTimer = undefined
    }
    pump.resume()
  }
  const onFinish = (): void => {
    // Http2ServerResponse emits 'finish' also when the client reset the stream.
    if (!ended) return onGone()
    responseDone = true
    settle()
  }
  const onGone = (): void => {
    if (responseDone) return
    gone = true
    // Cancelling calls onClose at once; responseDone is set after it so that settle() runs here,
    // when `pump` is sure to exist, and not from inside that call.
    if (!pump.closed) void pump.cancel('cancel')
    responseDone = true
    settle()
  }

  // The client may have left while the application awaited something before calling us.
  const goneAlready = isGone(request, target)
  gone = goneAlready

  const pump: EventPump = byteStream
    ? createByteStreamPump(source, sink, onPumpClosed, options.signal)
    : createEventPump(source, sink, {
        ...options,
        lastEventId: options.lastEventId ?? lastEventIdFrom(request),
        onClose(summary) {
          onPumpClosed(summary.reason)
          options.onClose?.(summary)
        },
      })

  const entry: OpenEventStream = {
    close(finalEvent) {
      pump.close(finalEvent).catch(() => {
        // An event that cannot be encoded: end without it rather than not at all.
        void pump.cancel('shutdown')
        endResponse()
      })
    },
    destroy() {
      target.destroy()
    },
    settled: settledPromise,
  }

  if (goneAlready) {
    onGone()
    return settledPromise
  }
  configureSocket(request, target)
  writeHead()
  target.on('drain', onDrain)
  target.on('finish', onFinish)
  target.on('close', onGone)
  target.on('error', onGone)
  if (!settled) openEventStreams.add(entry)
  return settledPromise
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

function responseHeaders(
  http1: boolean,
  extra: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  const headers: Record<string, string> = http1
    ? { ...eventStreamHeaders, Connection: 'keep-alive' }
    : { ...eventStreamHeaders }
  for (const [name, value] of Object.entries(extra ?? {})) {
    const lowerName = name.toLowerCase()
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

function isGone(request: NodeRequest, response: ResponseTarget): boolean {
  if (response.destroyed === true) return true
  if (response.stream !== undefined) return response.stream.destroyed || response.stream.closed
  return request.socket?.destroyed ?? false
}

// A stream may stay quiet far longer than any request timeout, and small frames must not wait
// for Nagle's algorithm to batch them.
function configureSocket(request: NodeRequest, response: ResponseTarget): void {
  if (response.stream !== undefined) {
    response.stream.setTimeout(0)
    return
  }
  const socket = request.socket
  socket?.setTimeout(0)
  socket?.setNoDelay(true)
}
