/**
 * Server-Sent Events over HTTP/2 with node:http2's compatibility API. `sendEventStream` never
 * sends `Connection` or `Transfer-Encoding` on HTTP/2 (a protocol error there), and any number of
 * streams share one connection, so the browser's six-connections-per-host limit of HTTP/1.1 is gone.
 *
 * Cleartext HTTP/2 (h2c) by default, for curl; set TLS_KEY and TLS_CERT (PEM file paths) for
 * HTTPS with HTTP/1.1 fallback, which is what browsers need.
 */
import { readFileSync } from 'node:fs'
import {
  createSecureServer,
  createServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2'
import { setTimeout as sleep } from 'node:timers/promises'
import { closeEventStreams, sendEventStream } from '@ssekit/node'

const port = Number(process.env['PORT'] ?? 3004)
const keyFile = process.env['TLS_KEY']
const certFile = process.env['TLS_CERT']

function handle(request: Http2ServerRequest, response: Http2ServerResponse): void {
  const path = new URL(request.url, 'http://localhost').pathname
  if (path !== '/events') {
    response.writeHead(200, { 'content-type': 'text/plain' })
    response.end(`HTTP/${request.httpVersion}: GET /events streams a tick a second\n`)
    return
  }
  void sendEventStream(
    request,
    response,
    async function* ticker({ signal, lastEventId }) {
      let id = Number(lastEventId) || 0
      while (!signal.aborted) {
        yield { event: 'tick', id: String(++id), data: { id, httpVersion: request.httpVersion } }
        await sleep(1000, undefined, { signal }).catch(() => {})
      }
    },
    { retry: 2000 },
  )
}

const tls = keyFile !== undefined && certFile !== undefined
const server = tls
  ? createSecureServer(
      { key: readFileSync(keyFile), cert: readFileSync(certFile), allowHTTP1: true },
      handle,
    )
  : createServer(handle)

server.listen(port, '127.0.0.1', () => {
  console.log(
    tls
      ? `HTTP/2 over TLS on https://127.0.0.1:${port}: try  curl -k --http2 -N https://127.0.0.1:${port}/events`
      : `HTTP/2 cleartext on http://127.0.0.1:${port}: try  curl --http2-prior-knowledge -N http://127.0.0.1:${port}/events`,
  )
})

async function shutdown(): Promise<void> {
  server.close()
  await closeEventStreams({ graceMs: 3000 })
  process.exit(0)
}
process.once('SIGINT', shutdown)
process.once('SIGTERM', shutdown)
