import { createServer } from 'node:net'

/**
 * A port that was free on 127.0.0.1 a moment ago, for a process the test starts (redis-server, an
 * example) that cannot listen on port 0 and report back.
 *
 * @example
 * ```ts
 * const port = await freePort()
 * spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1'])
 * ```
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}
