import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

/**
 * The socket of a plain HTTP/1.1 response whose body node frames with chunked encoding, when the
 * stream may write its frames to it directly; else undefined.
 *
 * Why: every `response.write` of a chunked body corks the socket, queues four writes (size, CRLF,
 * data, CRLF), schedules an uncork and then builds a `writev` request: a few hundred bytes of
 * garbage and a tick per write, for every connection of every broadcast. One socket write of a
 * frame already in chunked form puts the same bytes on the wire. The response keeps its framing
 * state: its headers are sent, and `end()` still writes the last chunk.
 *
 * Only when nothing could be skipped: the response must use node's own `write` (not one that
 * compression or a logger put on it), its headers must be stored and its body chunked (so not
 * HTTP/1.0, not HEAD, not HTTP/2), and nothing may wait in node's queue for a socket.
 *
 * Duck-typed, not `instanceof ServerResponse`: this package must bundle for Workers (via
 * @ssekit/hono) without a `node:http` import.
 * @internal
 */
export function chunkedSocket(response: object): Socket | undefined {
  // `chunkedEncoding` is set when node stores the headers; `outputSize` counts what node queued
  // because the socket was not yet the response's own (a pipelined request).
  const internals = response as Partial<ServerResponse> & {
    chunkedEncoding?: boolean
    outputSize?: number
  }
  if (
    internals.chunkedEncoding !== true ||
    internals.outputSize !== 0 ||
    internals.headersSent !== true ||
    Object.hasOwn(response, 'write')
  ) {
    return undefined
  }
  const socket = internals.socket
  return socket == null || socket.destroyed ? undefined : socket
}

const lineEnd = 0x0d0a

// Broadcasts hand the same chunk to every connection in turn, so the last frame is kept: only
// up to this size, since it outlives its streams (an event's bytes kept after everyone left).
const maxRememberedBytes = 64 * 1024
let lastChunk: Uint8Array | undefined
let lastFrame: Buffer | undefined

/**
 * `chunk` as one chunk of a chunked HTTP/1.1 body: its size in hex, CRLF, the bytes, CRLF.
 * `remember` when the chunk never changes once written (the pump's chunks: fresh ones, or a hub's
 * shared frame), so that the next stream handed the same chunk reuses the frame.
 * @internal
 */
export function chunkedFrame(chunk: Uint8Array, remember: boolean): Buffer {
  if (chunk === lastChunk && remember) return lastFrame as Buffer
  const size = chunk.byteLength.toString(16)
  const start = size.length + 2
  // Unpooled: a frame a socket still holds must not keep a shared 8 KiB pool alive.
  const frame = Buffer.allocUnsafeSlow(start + chunk.byteLength + 2)
  frame.write(size, 0, 'latin1')
  frame.writeUInt16BE(lineEnd, start - 2)
  frame.set(chunk, start)
  frame.writeUInt16BE(lineEnd, frame.length - 2)
  if (remember && chunk.byteLength <= maxRememberedBytes) {
    lastChunk = chunk
    lastFrame = frame
  }
  return frame
}
