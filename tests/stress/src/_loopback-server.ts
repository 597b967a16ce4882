import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A node:http server on 127.0.0.1, port 0, that counts what reached it. */
export interface LoopbackServer extends AsyncDisposable {
  readonly server: Server
  readonly url: string
  readonly port: number
  /** Every request so far, in arrival order, with the time it arrived. */
  readonly requests: { url: string; lastEventId: string | undefined; at: number }[]
  /** Closes the listener and every connection still open. */
  close(): Promise<void>
}

export async function startServer(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<LoopbackServer> {
  const requests: LoopbackServer['requests'] = []
  const server = createServer((request, response) => {
    const header = request.headers['last-event-id']
    requests.push({
      url: request.url ?? '',
      lastEventId: Array.isArray(header) ? header[0] : header,
      at: Date.now(),
    })
    handler(request, response)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  let closing: Promise<void> | undefined
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
    return closing
  }
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close,
    [Symbol.asyncDispose]: close,
  }
}

/**
 * Writes `next()`'s chunks to `response` as fast as the client reads them and no faster (waits for
 * `drain`), until `next()` returns undefined or the client leaves. Returns the bytes written.
 */
export async function writeLazily(
  response: ServerResponse,
  next: () => Uint8Array | string | undefined,
): Promise<number> {
  let written = 0
  while (!response.destroyed) {
    const chunk = next()
    if (chunk === undefined) break
    written += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength
    if (!response.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          response.off('drain', done)
          response.off('close', done)
          resolve()
        }
        response.on('drain', done)
        response.on('close', done)
      })
    }
  }
  return written
}
