import { once } from 'node:events'
import type { AddressInfo, Server, Socket } from 'node:net'
import { withTimeout } from './with-timeout.ts'

/**
 * A server on 127.0.0.1 whose `close()` also ends the connections still open (an SSE stream never
 * ends by itself, so `server.close()` alone would wait forever). `await using` closes it.
 *
 * @example
 * ```ts
 * await using server = await serveOnLoopback(http.createServer(handler))
 * await fetch(`${server.origin}/events`)
 * ```
 */
export interface LoopbackServer extends AsyncDisposable {
  readonly port: number
  /** `http://127.0.0.1:<port>` */
  readonly origin: string
  /** Destroys every open connection, then closes the listener; bounded. */
  close(): Promise<void>
}

/**
 * Puts `server` (node:http, node:http2, anything built on `net.Server`) on 127.0.0.1, port 0, and
 * tracks its connections for {@link LoopbackServer.close}. Pass `{ listen: false }` for a server
 * that was already told to listen (as `@hono/node-server`'s `serve()` does); it is then awaited.
 *
 * @example
 * ```ts
 * const server = await serveOnLoopback(serve({ fetch: app.fetch, port: 0 }), { listen: false })
 * try {
 *   await fetch(server.origin)
 * } finally {
 *   await server.close()
 * }
 * ```
 */
export async function serveOnLoopback(
  server: Server,
  options: { listen?: boolean | undefined } = {},
): Promise<LoopbackServer> {
  const sockets = new Set<Socket>()
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  if (options.listen ?? true) server.listen(0, '127.0.0.1')
  if (!server.listening) await withTimeout(once(server, 'listening'), 5000, 'server listens')
  const { port } = server.address() as AddressInfo
  let closing: Promise<void> | undefined
  const close = () => {
    closing ??= withTimeout(
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
      5000,
      'server closes',
    )
    return closing
  }
  return { port, origin: `http://127.0.0.1:${port}`, close, [Symbol.asyncDispose]: close }
}
