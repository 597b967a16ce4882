import { once } from 'node:events'
import http from 'node:http'
import http2 from 'node:http2'
import type { Readable } from 'node:stream'
import { createGunzip, createInflate } from 'node:zlib'
import { withTimeout } from '@ssekit/test-support'

/** One SSE frame as the test sees it: its fields in order, and its comment lines. */
export interface Frame {
  /** The raw text of the frame, without the blank line that ends it. */
  raw: string
  comments: string[]
  event: string | undefined
  id: string | undefined
  retry: string | undefined
  /** The `data:` lines joined with `\n`, or `undefined` when the frame had none. */
  data: string | undefined
}

/** An open event stream: response head, and a pull-based reader the test drives. */
export interface OpenStream {
  status: number
  /** Lower-cased header names; HTTP/2 pseudo-headers removed. */
  headers: Record<string, string | string[] | undefined>
  /** The next decoded text chunk, or `undefined` at the end of the body. Reads nothing until called. */
  readText(): Promise<string | undefined>
  /** The next whole frame, or `undefined` when the body ended first. */
  nextFrame(label: string, ms?: number): Promise<Frame | undefined>
  /** Everything until the body ends. */
  readToEnd(label: string, ms?: number): Promise<string>
  /** Drops the connection (HTTP/1.1) or resets the stream (HTTP/2), as a leaving browser would. */
  cancel(): void
}

/** A client for one server: HTTP/1.1 over a fresh socket per stream, or one h2c session. */
export interface SseTestClient {
  readonly protocol: 'http/1.1' | 'h2c'
  open(path: string, headers?: Record<string, string>): Promise<OpenStream>
  /** A plain GET, for the control routes. */
  getText(path: string): Promise<{ status: number; text: string }>
  close(): Promise<void>
}

export function parseFrame(raw: string): Frame {
  const frame: Frame = {
    raw,
    comments: [],
    event: undefined,
    id: undefined,
    retry: undefined,
    data: undefined,
  }
  for (const line of raw.split(/\r\n|\r|\n/)) {
    if (line.startsWith(':')) {
      frame.comments.push(line.slice(1).trimStart())
      continue
    }
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'data') frame.data = frame.data === undefined ? value : `${frame.data}\n${value}`
    else if (field === 'event') frame.event = value
    else if (field === 'id') frame.id = value
    else if (field === 'retry') frame.retry = value
  }
  return frame
}

function streamReader(
  body: Readable,
  status: number,
  headers: OpenStream['headers'],
  cancel: () => void,
): OpenStream {
  const encoding = headers['content-encoding']
  let readable: Readable = body
  if (encoding === 'gzip') readable = body.pipe(createGunzip({ flush: 2 }))
  else if (encoding === 'deflate') readable = body.pipe(createInflate({ flush: 2 }))
  const decoder = new TextDecoder()
  let ended = false
  let failure: unknown
  readable.on('end', () => {
    ended = true
  })
  readable.on('error', (error) => {
    failure = error
  })
  readable.on('close', () => {
    ended = true
  })
  let buffer = ''

  async function readText(): Promise<string | undefined> {
    for (;;) {
      const chunk: Buffer | null = readable.read()
      if (chunk !== null) return decoder.decode(chunk, { stream: true })
      if (failure !== undefined) throw failure
      if (ended || readable.readableEnded || readable.destroyed) return undefined
      await Promise.race([
        once(readable, 'readable'),
        once(readable, 'end'),
        once(readable, 'close'),
      ])
    }
  }

  async function nextFrameUnbounded(): Promise<Frame | undefined> {
    for (;;) {
      const match = /\r\n\r\n|\n\n|\r\r/.exec(buffer)
      if (match !== null) {
        const raw = buffer.slice(0, match.index)
        buffer = buffer.slice(match.index + match[0].length)
        return parseFrame(raw)
      }
      const text = await readText()
      if (text === undefined) return undefined
      buffer += text
    }
  }

  return {
    status,
    headers,
    readText,
    nextFrame: (label, ms = 5000) => withTimeout(nextFrameUnbounded(), ms, label),
    readToEnd: (label, ms = 5000) =>
      withTimeout(
        (async () => {
          let text = buffer
          buffer = ''
          for (let chunk = await readText(); chunk !== undefined; chunk = await readText()) {
            text += chunk
          }
          return text
        })(),
        ms,
        label,
      ),
    cancel,
  }
}

/** A client that opens each stream on its own HTTP/1.1 socket (no keep-alive, no pooling). */
export function createHttp1Client(baseURL: string): SseTestClient {
  const open = new Set<http.ClientRequest>()
  return {
    protocol: 'http/1.1',
    open(path, headers = {}) {
      return withTimeout(
        new Promise<OpenStream>((resolve, reject) => {
          const request = http.get(new URL(path, baseURL), { agent: false, headers })
          open.add(request)
          request.once('close', () => open.delete(request))
          request.once('error', reject)
          request.once('response', (response) => {
            request.off('error', reject)
            request.on('error', () => {})
            resolve(
              streamReader(response, response.statusCode ?? 0, response.headers, () =>
                request.destroy(),
              ),
            )
          })
        }),
        5000,
        `response head for ${path}`,
      )
    },
    async getText(path) {
      const response = await withTimeout(fetch(new URL(path, baseURL)), 5000, `GET ${path}`)
      return { status: response.status, text: await response.text() }
    },
    async close() {
      for (const request of open) request.destroy()
    },
  }
}

/** A client that opens every stream on one cleartext HTTP/2 session. */
export function createHttp2Client(baseURL: string): SseTestClient {
  const session = http2.connect(baseURL)
  session.on('error', () => {})
  const streamHeads = (path: string, headers: Record<string, string>) =>
    withTimeout(
      new Promise<{ stream: http2.ClientHttp2Stream; head: http2.IncomingHttpHeaders }>(
        (resolve, reject) => {
          const stream = session.request({ ':path': path, ...headers })
          stream.once('error', reject)
          stream.once('response', (head) => {
            stream.off('error', reject)
            stream.on('error', () => {})
            resolve({ stream, head })
          })
        },
      ),
      5000,
      `h2 response head for ${path}`,
    )
  return {
    protocol: 'h2c',
    async open(path, headers = {}) {
      const { stream, head } = await streamHeads(path, headers)
      const status = Number(head[':status'])
      const plain: OpenStream['headers'] = {}
      for (const [name, value] of Object.entries(head)) {
        if (!name.startsWith(':')) plain[name] = value
      }
      return streamReader(stream, status, plain, () => stream.close(http2.constants.NGHTTP2_CANCEL))
    },
    async getText(path) {
      const { stream, head } = await streamHeads(path, {})
      const chunks: Buffer[] = []
      for await (const chunk of stream) chunks.push(chunk as Buffer)
      return { status: Number(head[':status']), text: Buffer.concat(chunks).toString('utf8') }
    },
    async close() {
      await withTimeout(
        new Promise<void>((resolve) => {
          session.close(() => resolve())
          setTimeout(() => session.destroy(), 500).unref()
        }),
        2000,
        'h2 session close',
      )
    },
  }
}
