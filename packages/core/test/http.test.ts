import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  type EventSourceContext,
  type EventStreamResponseInit,
  type EventStreamSource,
  type EventStreamSummary,
  eventStreamResponse,
} from '@ssekit/core'
import { heartbeatStats } from '@ssekit/core/adapter'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { parseText, withTimeout } from './_helpers.ts'

// The core's Web path (eventStreamResponse → ReadableStream) served on a real loopback socket
// through the smallest honest bridge: read a chunk only after write() had room or after drain.
let server: Server | undefined

afterEach(async () => {
  server?.closeAllConnections()
  if (server?.listening) await withTimeout(once(server.close(), 'close'), 2_000, 'server close')
  server = undefined
})

async function serve(
  source: EventStreamSource,
  init: EventStreamResponseInit = {},
): Promise<string> {
  server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const controller = new AbortController()
    response.once('close', () => controller.abort())
    const web = eventStreamResponse(source, {
      ...init,
      request: {
        headers: request.headers,
        url: request.url,
        signal: controller.signal,
      },
    })
    response.writeHead(web.status, Object.fromEntries(web.headers))
    response.flushHeaders()
    void pipe(web.body as ReadableStream<Uint8Array>, response)
  })
  server.listen(0, '127.0.0.1')
  await withTimeout(once(server, 'listening'), 2_000, 'listen')
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`
}

async function pipe(body: ReadableStream<Uint8Array>, response: ServerResponse): Promise<void> {
  const reader = body.getReader()
  response.once('close', () => void reader.cancel().catch(() => {}))
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      if (!response.write(value)) {
        await new Promise((resolve) => {
          response.once('drain', resolve)
          response.once('close', resolve)
        })
      }
      if (response.destroyed) return
    }
    response.end()
  } catch {
    response.destroy()
  }
}

describe('eventStreamResponse on a real node:http socket', () => {
  it('headers and the first bytes arrive before the first event exists', async () => {
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const url = await serve(
      async function* () {
        await gate
        yield { id: '1', data: 'first' }
      },
      { retry: 1_000 },
    )
    const response = await withTimeout(fetch(url), 2_000, 'response headers')
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(response.headers.get('cache-control')).toBe('no-cache, no-transform')
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    const first = await withTimeout(reader.read(), 2_000, 'first bytes')
    expect(new TextDecoder().decode(first.value)).toBe('retry: 1000\n\n')
    release()
    let text = ''
    for (;;) {
      const { done, value } = await withTimeout(reader.read(), 2_000, 'the rest')
      if (done) break
      text += new TextDecoder().decode(value)
    }
    expect(parseText(text).events).toEqual([{ id: '1', event: undefined, data: 'first' }])
  })

  it('resumes from Last-Event-ID, and a client that leaves ends the source', async () => {
    const onClose = vi.fn<(summary: EventStreamSummary) => void>()
    let finished = false
    let seenLastEventId: string | undefined
    const url = await serve(
      async function* ({ lastEventId, signal }: EventSourceContext) {
        seenLastEventId = lastEventId
        try {
          yield { data: 'hello' }
          await new Promise((resolve) => signal.addEventListener('abort', resolve))
        } finally {
          finished = true
        }
      },
      { onClose },
    )
    const client = new AbortController()
    const response = await withTimeout(
      fetch(url, { headers: { 'Last-Event-ID': '41' }, signal: client.signal }),
      2_000,
      'response',
    )
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    let text = ''
    while (!text.includes('hello')) {
      const { value } = await withTimeout(reader.read(), 2_000, 'hello')
      text += new TextDecoder().decode(value)
    }
    expect(seenLastEventId).toBe('41')
    client.abort()
    await withTimeout(
      vi.waitFor(() => expect(finished).toBe(true)),
      3_000,
      'source finally',
    )
    await withTimeout(
      vi.waitFor(() => expect(onClose).toHaveBeenCalledOnce()),
      3_000,
      'onClose',
    )
    expect(['cancel', 'abort']).toContain(onClose.mock.calls[0]?.[0].reason)
    expect(heartbeatStats()).toEqual({ streams: 0, timerArmed: false })
  })

  it('a client that stops reading stops the source (bounded by the socket buffers)', async () => {
    let nextCalls = 0
    const cap = 200_000
    const payload = 'x'.repeat(1_000)
    const url = await serve(async function* () {
      for (let index = 0; index < cap; index++) {
        nextCalls++
        yield { data: payload }
      }
    })
    const response = await withTimeout(fetch(url), 2_000, 'response')
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    await withTimeout(reader.read(), 2_000, 'first bytes')
    // Stop reading; wait until the producer has stalled.
    let previous = -1
    await withTimeout(
      (async () => {
        while (previous !== nextCalls) {
          previous = nextCalls
          await new Promise((resolve) => setTimeout(resolve, 200))
        }
      })(),
      8_000,
      'the producer stalls',
    )
    // Kernel socket buffers hold a few MB at most; without backpressure all 200 MB would be made.
    expect(nextCalls).toBeLessThan(cap / 4)
    await reader.cancel()
  })
})
