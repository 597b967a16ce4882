import type { Socket } from 'node:net'
import type { CloseReason, SseEvent } from '@ssekit/core'
import type { EventPump, EventSink } from '@ssekit/core/adapter'
import { chunkedFrame, chunkedSocket } from './_chunked-socket.ts'
import { type OpenEventStream, openEventStreams } from './_registry.ts'
import type { NodeRequest } from './send-event-stream.ts'

/** @internal Response headers as node takes them: a list sends a header once per value. */
export type ResponseHeaders = Readonly<Record<string, string | readonly string[]>>

/**
 * The part of both response classes (and of Express's wrapped one) that is used here.
 * @internal
 */
export interface ResponseTarget {
  write(chunk: Uint8Array): boolean
  end(): unknown
  writeHead(status: number, headers: ResponseHeaders): unknown
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
// `this`, and the response points at its stream under this key. A closure per listener and
// connection would cost more than the one property.
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

// Bits of ResponseStream.flags: one small integer instead of a field per boolean.
/** `end()` was called (or would have been, had the client still been there). */
const Ended = 1
/** The client went away before the stream ended. */
const Gone = 2
const PumpDone = 4
const ResponseDone = 8
const Settled = 16
/** The source's cleanup ran after settling: `settled` may resolve. */
const CleanedUp = 64
/**
 * The shared `drain` listener is on (added the first time it is full): on the socket when frames
 * go to it, else on the response.
 */
const ListensForDrain = 32
/** The source is the application's own byte stream: its chunks may be reused, never remembered. */
const OwnBytes = 128

/**
 * One event stream on one response: the sink its pump writes to, the state the response's shared
 * listeners resume or cancel that pump from, and its entry in the registry of open streams.
 *
 * A class with its methods on the prototype and no closure of its own: an idle connection costs
 * this object and little else. Its `settled` promise (and the resolve function behind it) is made
 * when first asked for, which `sendEventStream` does and `@ssekit/hono` does not. It listens for
 * `close` and `error` only; `drain` from the first time the response is full (an idle stream never
 * is), and `finish` not at all, since node emits `close` after it for HTTP/1 and HTTP/2 alike.
 * @internal
 */
export class ResponseStream implements EventSink, OpenEventStream {
  /** Set right after construction, once the pump that writes here exists. */
  pump: EventPump | undefined
  private readonly target: ResponseTarget
  private readonly drainTimeout: number | false
  /** The `drain` listener of a response behind compression() (see write()); else the shared one. */
  private drainListener: (() => void) | undefined
  // Kept until written, then dropped.
  private headers: ResponseHeaders | undefined
  private settledPromise: Promise<CloseReason> | undefined
  private resolveSettled: ((reason: CloseReason) => void) | undefined
  private stallTimer: ReturnType<typeof setTimeout> | undefined
  private reason: CloseReason = 'cancel'
  private flags: number
  /** Set when frames go straight to the socket, already chunked (see `chunkedSocket`). */
  private socket: Socket | undefined

  constructor(
    request: NodeRequest,
    target: ResponseTarget,
    headers: ResponseHeaders,
    drainTimeout: number | false,
    ownBytes = false,
  ) {
    this.target = target
    this.headers = headers
    this.drainTimeout = drainTimeout
    // The client may have left while the application awaited something before calling us.
    this.flags = (isGone(request, target) ? Gone : 0) | (ownBytes ? OwnBytes : 0)
    if ((this.flags & Gone) === 0) {
      // Before the pump's first write, so that the opening bytes are not held by Nagle's algorithm.
      configureSocket(request, target)
      // Also before it: node's write path then always sees the response with this property, and
      // its optimized code is not thrown away at the first write after start() (the first
      // broadcast to a thousand streams, say).
      ;(target as KeyedTarget)[streamKey] = this
    }
  }

  /** Resolves with the close reason once the stream is over and the source's cleanup ran. */
  get settled(): Promise<CloseReason> {
    if (this.settledPromise === undefined) {
      this.settledPromise =
        (this.flags & CleanedUp) !== 0
          ? Promise.resolve(this.reason)
          : new Promise((resolve) => {
              this.resolveSettled = resolve
            })
    }
    return this.settledPromise
  }

  /** The pump and the response are both done; `settled` waits for the source's cleanup too. */
  get responseDone(): boolean {
    return (this.flags & Settled) !== 0
  }

  /** Sends the headers if the pump has not, and starts listening; call once the pump exists. */
  start(): void {
    if ((this.flags & Gone) !== 0) {
      this.responseClosed()
      return
    }
    const target = this.target
    this.writeHead()
    // 'close' when the client left, and also after 'finish' (our end()) for HTTP/1 and HTTP/2
    // responses: Http2ServerResponse emits 'finish' and then 'close' for a stream the client
    // reset, and responseClosed() tells the two apart by whether end() was called.
    target.on('close', onResponseDone)
    target.on('error', onResponseDone)
    if ((this.flags & Settled) === 0) openEventStreams.add(this)
  }

  /**
   * node never modifies or transfers a chunk it is given, so a hub's pre-encoded frame is written
   * as the very bytes every subscriber shares, not copied per connection. A getter: no field.
   */
  get sharesChunks(): boolean {
    return true
  }

  write(chunk: Uint8Array): boolean {
    if ((this.flags & (Gone | Ended)) !== 0) return false
    this.writeHead()
    const socket = this.socket
    const target = this.target
    let hasRoom: boolean
    if (socket === undefined) {
      hasRoom = target.write(chunk)
      target.flush?.()
    } else {
      hasRoom = socket.write(chunkedFrame(chunk, (this.flags & OwnBytes) === 0))
    }
    if (!hasRoom) {
      if ((this.flags & ListensForDrain) === 0) {
        this.flags |= ListensForDrain
        if (socket === undefined && target.flush !== undefined) {
          // compression() hands `drain` listeners to its zlib stream, which calls them with
          // itself as `this`: the shared listener would not find this stream there.
          this.drainListener = () => this.drained()
          target.on('drain', this.drainListener)
        } else {
          // Written past the response, it is the socket that drains (the response never fills).
          const emitter = (socket ?? target) as KeyedTarget & ResponseTarget
          emitter[streamKey] = this
          emitter.on('drain', onDrain)
        }
      }
      if (this.drainTimeout !== false && this.stallTimer === undefined) {
        this.stallTimer = setTimeout(destroyStalled, this.drainTimeout, target)
      }
    }
    return hasRoom
  }

  close(): void {
    this.endResponse()
  }

  /** The pump ended (its sink hook; the byte-stream pump calls it with `{ reason }`). */
  onEnd(summary: { reason: CloseReason }): void {
    this.reason = summary.reason
    this.flags |= PumpDone
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
    this.socket = chunkedSocket(this.target)
    // Flushed alone rather than with the first chunk: written as one string, node's header is
    // flattened in place, where a header sent along with a chunk stays a rope of some twenty
    // strings (about 0.6 KB more) for as long as the response lives.
    this.target.flushHeaders()
  }

  private endResponse(): void {
    if ((this.flags & Ended) !== 0) return
    this.flags |= Ended
    if ((this.flags & Gone) !== 0) return
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

  /** @internal `close` or `error` of the response. */
  responseClosed(): void {
    if ((this.flags & ResponseDone) !== 0) return
    if ((this.flags & Ended) === 0) {
      this.flags |= Gone
      const pump = this.pump
      // Cancelling calls onClose at once; ResponseDone is set after it, so that settle() runs
      // here rather than from inside that call.
      if (pump !== undefined && !pump.closed) void pump.cancel('cancel')
    }
    this.flags |= ResponseDone
    this.settle()
  }

  private settle(): void {
    const flags = this.flags
    if (
      (flags & Settled) !== 0 ||
      (flags & (PumpDone | ResponseDone)) !== (PumpDone | ResponseDone)
    )
      return
    this.flags = flags | Settled
    if (this.stallTimer !== undefined) clearTimeout(this.stallTimer)
    const target = this.target
    if ((flags & ListensForDrain) !== 0) {
      const socket = this.socket as (Socket & KeyedTarget) | undefined
      if (socket === undefined) target.off('drain', this.drainListener ?? onDrain)
      else {
        socket.off('drain', onDrain)
        if (socket[streamKey] === this) socket[streamKey] = undefined
      }
    }
    target.off('close', onResponseDone)
    target.off('error', onResponseDone)
    // Assigned rather than deleted: a delete would turn the response into a slow dictionary object.
    if ((target as KeyedTarget)[streamKey] === this) (target as KeyedTarget)[streamKey] = undefined
    openEventStreams.delete(this)
    // Once the pump has closed, cancel() only returns its cleanup: the source's return().
    void (this.pump as EventPump).cancel().then(() => this.cleanedUp())
  }

  private cleanedUp(): void {
    this.flags |= CleanedUp
    const resolve = this.resolveSettled
    this.resolveSettled = undefined
    resolve?.(this.reason)
  }
}

/**
 * Whether the response can no longer reach its client: destroyed, its HTTP/2 stream closed, or
 * its socket gone. Its `close` has then already fired, so a listener added now would never run.
 * @internal
 */
export function isGone(request: NodeRequest, response: ResponseTarget): boolean {
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
