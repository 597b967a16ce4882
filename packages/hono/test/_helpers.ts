import { once } from 'node:events'
import type http from 'node:http'
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import type { Hono } from 'hono'

/** Bounds one wait and names it, so a regression fails fast and says what never happened. */
export function withTimeout<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${label}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

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
  const sockets = new Set<{ destroy(): void }>()
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  if (!server.listening) await withTimeout(once(server, 'listening'), 5000, 'server listens')
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy()
      await withTimeout(
        new Promise<void>((resolve) => server.close(() => resolve())),
        5000,
        'server closes',
      )
    },
  }
}

/** Reads a fetch body frame by frame (split on blank lines), each read bounded. */
export function frameReader(body: ReadableStream<Uint8Array> | null) {
  if (body === null) throw new TypeError('the response has no body')
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  return {
    /** The next frame's raw text, or `undefined` at the end of the body. */
    async next(label: string): Promise<string | undefined> {
      for (;;) {
        const end = buffer.indexOf('\n\n')
        if (end !== -1) {
          const frame = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          return frame
        }
        const { done, value } = await withTimeout(reader.read(), 5000, label)
        if (done) return undefined
        buffer += decoder.decode(value, { stream: true })
      }
    },
    /** Everything until the end of the body. */
    async rest(label: string): Promise<string> {
      let text = buffer
      buffer = ''
      for (;;) {
        const { done, value } = await withTimeout(reader.read(), 5000, label)
        if (done) return text
        text += decoder.decode(value, { stream: true })
      }
    },
    cancel: () => reader.cancel(),
  }
}

/** A promise with its resolve function, for sources the test drives step by step. */
export function deferred<T = void>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((settle) => {
    resolve = settle
  })
  return { promise, resolve }
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
