import type { CloseReason, SseEvent } from '@ssekit/core'
import type { EventPump, EventSink } from '@ssekit/core/adapter'
import { type OpenEventStream, openEventStreams } from './_registry.ts'
import type { NodeRequest } from './send-event-stream.ts'

/**
 * The part of both response classes (and of Express's wrapped one) that is used here.
 * @internal
 */
export interface ResponseTarget {
  write(chunk: Uint8Array): boolean
  end(): unknown
  writeHead(status: number, headers: Readonly<Record<string, string>>): unknown
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
  readonly stream?:
    | { destroyed: boolean; closed: boolean; setTimeout(ms: number): unknown }
    | undefined
}

// The response's listeners are shared by every stream: node calls them with the response as
// `this`, and the response points at its stream under this key. Three closures per connection
// would cost more than the one property.
const streamKey = Symbol('ssekit.response-stream')

interface KeyedTarget {
  [streamKey]?: ResponseStream | undefined
}

function onDrain(this: KeyedTarget): void {
  this[streamKey]?.drained()
}

function onResponseDone(this: KeyedTarget): void {
  this[streamKey]?.responseClosed()
}

/**
 * One event stream on one response: the sink its pump writes to, the state the response's shared
 * listeners resume or cancel that pump from, and its entry in the registry of open streams.
 *
 * A class with its methods on the prototype and one closure per instance (the promise's resolve):
 * an idle connection costs this object and little else.
 * @internal
 */
export class ResponseStream implements EventSink, OpenEventStream {
  readonly settled: Promise<CloseReason>
  /** Set right after construction, once the pump that writes here exists. */
  pump: EventPump | undefined
  private readonly target: ResponseTarget
  private readonly drainTimeout: number | false
  // Kept until written, then dropped.
  private headers: Readonly<Record<string, string>> | undefined
  private resolveSettled: ((reason: CloseReason) => void) | undefined
  private stallTimer: ReturnType<typeof setTimeout> | undefined
  private reason: CloseReason = 'cancel'
  /** `end()` was called (or would have been, had the client still been there). */
  private ended = false
  /** The client went away before the stream ended. */
  private gone: boolean
  private pumpDone = false
  private responseDone = false
  private isSettled = false

  constructor(
    request: NodeRequest,
    target: ResponseTarget,
    headers: Readonly<Record<string, string>>,
    drainTimeout: number | false,
  ) {
    this.target = target
    this.headers = headers
    this.drainTimeout = drainTimeout
    // The client may have left while the application awaited something before calling us.
    this.gone = isGone(request, target)
    // Before the pump's first write, so that the opening bytes are not held by Nagle's algorithm.
    if (!this.gone) configureSocket(request, target)
    this.settled = new Promise((resolve) => {
      this.resolveSettled = resolve
    })
  }

  /** Sends the headers if the pump has not, and starts listening; call once the pump exists. */
  start(): void {
    if (this.gone) {
      this.responseClosed()
      return
    }
    const target = this.target
    this.writeHead()
    ;(target as KeyedTarget)[streamKey] = this
    target.on('drain', onDrain)
    // 'finish' after our end(); 'close' and 'error' when the client left. Http2ServerResponse
    // also emits 'finish' for a stream the client reset: responseClosed() tells them apart.
    target.on('finish', onResponseDone)
    target.on('close', onResponseDone)
    target.on('error', onResponseDone)
    if (!this.isSettled) openEventStreams.add(this)
  }

  /**
   * node never modifies or transfers a chunk it is given, so a hub's pre-encoded frame is written
   * as the very bytes every subscriber shares, not copied per connection. A getter: no field.
   */
  get sharesChunks(): boolean {
    return true
  }

  write(chunk: Uint8Array): boolean {
    if (this.gone || this.ended) return false
    this.writeHead()
    const target = this.target
    const hasRoom = target.write(chunk)
    target.flush?.()
    if (!hasRoom && this.drainTimeout !== false && this.stallTimer === undefined) {
      this.stallTimer = setTimeout(destroyStalled, this.drainTimeout, target)
    }
    return hasRoom
  }

  close(): void {
    this.endResponse()
  }

  /** The pump ended (its sink hook; the byte-stream pump calls it with `{ reason }`). */
  onEnd(summary: { reason: CloseReason }): void {
    this.reason = summary.reason
    this.pumpDone = true
    this.settle()
  }

  // The headers are out, so a failure can only end the response; an SSE client treats an ended
  // and a broken stream alike (it reconnects), and a clean end keeps proxies' connections usable.
  error(): void {
    this.endResponse()
  }

  shutdown(finalEvent: SseEvent): void {
    const pump = this.pump
    if (pump === undefined) return
    pump.close(finalEvent).catch(() => {
      // An event that cannot be encoded: end without it rather than not at all.
      void pump.cancel('shutdown')
      this.endResponse()
    })
  }

  destroy(): void {
    this.target.destroy()
  }

  private writeHead(): void {
    const headers = this.headers
    if (headers === undefined) return
    this.headers = undefined
    this.target.writeHead(200, headers)
    this.target.flushHeaders()
  }

  private endResponse(): void {
    if (this.ended) return
    this.ended = true
    if (this.gone) return
    this.writeHead()
    this.target.end()
  }

  /** @internal `drain`: the response has room again. */
  drained(): void {
    if (this.stallTimer !== undefined) {
      clearTimeout(this.stallTimer)
      this.stallTimer = undefined
    }
    this.pump?.resume()
  }

  /** @internal `finish`, `close` or `error` of the response. */
  responseClosed(): void {
    if (this.responseDone) return
    if (!this.ended) {
      this.gone = true
      const pump = this.pump
      // Cancelling calls onClose at once; responseDone is set after it, so that settle() runs
      // here rather than from inside that call.
      if (pump !== undefined && !pump.closed) void pump.cancel('cancel')
    }
    this.responseDone = true
    this.settle()
  }

  private settle(): void {
    if (this.isSettled || !this.pumpDone || !this.responseDone) return
    this.isSettled = true
    if (this.stallTimer !== undefined) clearTimeout(this.stallTimer)
    const target = this.target
    target.off('drain', onDrain)
    target.off('finish', onResponseDone)
    target.off('close', onResponseDone)
    target.off('error', onResponseDone)
    // Assigned rather than deleted: a delete would turn the response into a slow dictionary object.
    if ((target as KeyedTarget)[streamKey] === this) (target as KeyedTarget)[streamKey] = undefined
    openEventStreams.delete(this)
    const resolve = this.resolveSettled
    const reason = this.reason
    this.resolveSettled = undefined
    // Once the pump has closed, cancel() only returns its cleanup: the source's return().
    void (this.pump as EventPump).cancel().then(() => resolve?.(reason))
  }
}

function isGone(request: NodeRequest, response: ResponseTarget): boolean {
  if (response.destroyed === true) return true
  if (response.stream !== undefined) return response.stream.destroyed || response.stream.closed
  return request.socket?.destroyed ?? false
}

/** A client that left the buffer full for `drainTimeout` ms. */
function destroyStalled(target: ResponseTarget): void {
  target.destroy()
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
