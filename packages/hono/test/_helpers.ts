import type http from 'node:http'
import http2 from 'node:http2'
import { serve } from '@hono/node-server'
import { serveOnLoopback, withTimeout } from '@ssekit/test-support'
import type { Hono } from 'hono'

/** A Hono app served by `@hono/node-server` on 127.0.0.1, closed by `await using`. */
export interface TestServer extends AsyncDisposable {
  origin: string
}

/** Serves `app` over HTTP/1.1, or cleartext HTTP/2 with `{ http2: true }`. */
export async function serveApp(app: Hono, options: { http2?: boolean } = {}): Promise<TestServer> {
  const server = serve({
    fetch: app.fetch,
    hostname: '127.0.0.1',
    port: 0,
    ...(options.http2 ? { createServer: http2.createServer } : {}),
  }) as http.Server
  const loopback = await serveOnLoopback(server, { listen: false })
  return { origin: loopback.origin, [Symbol.asyncDispose]: loopback.close }
}

/** Makes one HTTP/2 request and returns the response head, or the stream error. */
export async function http2Get(
  origin: string,
  path: string,
): Promise<{ status: number; headers: http2.IncomingHttpHeaders; firstChunk: string }> {
  const session = http2.connect(origin)
  try {
    return await withTimeout(
      new Promise((resolve, reject) => {
        session.once('error', reject)
        const stream = session.request({ ':path': path })
        stream.once('error', reject)
        stream.once('response', (headers) => {
          stream.once('data', (chunk: Buffer) => {
            resolve({
              status: Number(headers[':status']),
              headers,
              firstChunk: chunk.toString('utf8'),
            })
            stream.close(http2.constants.NGHTTP2_CANCEL)
          })
        })
      }),
      5000,
      `h2 GET ${path}`,
    )
  } finally {
    session.destroy()
  }
}
