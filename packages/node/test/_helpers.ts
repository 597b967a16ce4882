import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import type { Http2Server } from 'node:http2'
import type { AddressInfo } from 'node:net'
import type { EventStreamSource } from '@ssekit/core'
import { withTimeout } from '@ssekit/test-support'

/** A server listening on a free loopback port. */
export interface TestServer {
  readonly url: string
  close(): Promise<void>
}

/** Starts `server` on 127.0.0.1, port 0. */
export async function listen(server: Server | Http2Server): Promise<TestServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      withTimeout(
        new Promise<void>((resolve) => {
          if ('closeAllConnections' in server) server.closeAllConnections()
          server.close(() => resolve())
        }),
        5_000,
        'server.close()',
      ),
  }
}

/** An SSE body read frame by frame (a frame ends with a blank line). */
export interface FrameReader {
  /** The next whole frame, without its closing blank line (`:` for the opening comment). */
  nextFrame(label: string, ms?: number): Promise<string>
  /** The next frame that is not a comment. */
  nextEvent(label: string, ms?: number): Promise<string>
  /** Resolves with the unread rest of the body once the server ends it cleanly. */
  ended(label: string, ms?: number): Promise<string>
}

/** Reads frames from a byte stream (an http response, an http2 stream). */
export function readFrames(body: NodeJS.ReadableStream): FrameReader {
  body.setEncoding('utf8')
  let buffer = ''
  let cleanEnd = false
  let closed = false
  let wake: (() => void) | undefined
  body.on('data', (text: string) => {
    buffer += text
    wake?.()
  })
  body.on('end', () => {
    cleanEnd = true
    closed = true
    wake?.()
  })
  const onClose = () => {
    closed = true
    wake?.()
  }
  body.on('close', onClose)
  body.on('error', onClose)
  const waitFor = async <T>(take: () => T | undefined): Promise<T> => {
    for (;;) {
      const value = take()
      if (value !== undefined) return value
      if (closed) {
        throw new Error(
          `the stream ${cleanEnd ? 'ended' : 'broke'}; unread: ${JSON.stringify(buffer)}`,
        )
      }
      await new Promise<void>((wakeUp) => {
        wake = wakeUp
      })
      wake = undefined
    }
  }
  const takeFrame = (): string | undefined => {
    const end = buffer.indexOf('\n\n')
    if (end === -1) return undefined
    const frame = buffer.slice(0, end)
    buffer = buffer.slice(end + 2)
    return frame
  }
  return {
    nextFrame: (label, ms = 5_000) => withTimeout(waitFor(takeFrame), ms, label),
    nextEvent: (label, ms = 5_000) =>
      withTimeout(
        waitFor(() => {
          for (let frame = takeFrame(); frame !== undefined; frame = takeFrame()) {
            if (!frame.split('\n').every((line) => line.startsWith(':'))) return frame
          }
          return undefined
        }),
        ms,
        label,
      ),
    ended: (label, ms = 5_000) =>
      withTimeout(
        waitFor(() => (cleanEnd ? buffer : undefined)),
        ms,
        label,
      ),
  }
}

/** An SSE response over node:http. */
export interface EventStreamClient extends FrameReader {
  readonly response: IncomingMessage
  /** Tears the connection down, as a browser tab that closes. */
  destroy(): void
}

/** Opens `url` with node:http and reads it as an event stream. */
export function connect(
  url: string,
  headers: Record<string, string> = {},
): Promise<EventStreamClient> {
  return withTimeout(
    new Promise((resolve, reject) => {
      const clientRequest = httpRequest(url, { headers, agent: false }, (response) => {
        resolve({
          response,
          ...readFrames(response),
          destroy: () => clientRequest.destroy(),
        })
      })
      clientRequest.on('error', reject)
      clientRequest.end()
    }),
    5_000,
    `connect ${url}`,
  )
}

/**
 * A node:http server whose every stream says `hello` and then waits for its signal; `returned`
 * counts the sources whose cleanup ran. `start` is `sendEventStream` or `startEventStream`.
 */
export function createHelloServer(
  start: (request: IncomingMessage, response: ServerResponse, source: EventStreamSource) => unknown,
): { server: Server; returned: () => number } {
  let returned = 0
  const server = createServer((request, response) => {
    start(request, response, async function* ({ signal }) {
      try {
        yield { data: 'hello' }
        await new Promise((resolve) => signal.addEventListener('abort', resolve))
      } finally {
        returned++
      }
    })
  })
  return { server, returned: () => returned }
}
