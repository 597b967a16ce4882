import { SseError } from '@ssekit/core'
import { fetchEventStream, type RetryContext } from '@ssekit/fetch-client'
import { withTimeout } from '@ssekit/test-support'
import { afterEach, describe, expect, it } from 'vitest'
import { type LoopbackServer, startServer, writeLazily } from '../src/_loopback-server.ts'
import { report, size } from '../src/_params.ts'

const streamHeaders = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }
const servers: LoopbackServer[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close()
})

async function serve(handler: Parameters<typeof startServer>[0]): Promise<LoopbackServer> {
  const server = await startServer(handler)
  servers.push(server)
  return server
}

async function failureOf(promise: Promise<unknown>): Promise<SseError> {
  try {
    await promise
  } catch (error) {
    if (SseError.isInstance(error)) return error
    throw error
  }
  throw new Error('expected the stream to fail')
}

describe('the client against hostile servers: each ends in the documented way, bounded, without a reconnect storm', () => {
  it('a server that never ends a line: line-too-long after about maxLineBytes, no reconnect', async () => {
    let sent = 0
    const server = await serve((_, response) => {
      response.writeHead(200, streamHeaders)
      response.write('data: ')
      const chunk = 'x'.repeat(16_384)
      // Bounded: far past the 1 MiB limit, but never an endless loop if the client misbehaves.
      void writeLazily(response, () => {
        if (sent >= 256 * 1_048_576) return undefined
        sent += chunk.length
        return chunk
      })
    })
    const client = fetchEventStream(server.url, { maxRetries: 5 })
    const error = await withTimeout(failureOf(client.next()), 10_000, 'line-too-long')
    expect(error.code).toBe('line-too-long')
    expect(server.requests).toHaveLength(1)
    // The client stopped reading soon after the limit: kernel buffers are all the server got out.
    expect(sent).toBeLessThan(32 * 1_048_576)
    report('client: never-ending line (bytes the server managed to send)', sent)
  })

  it('a server that sends a flood of comments: every comment read lazily, heap flat, then the event arrives', async () => {
    const total = size(64, 1024) * 1_048_576
    const line = `:${'k'.repeat(1022)}\n`
    let sent = 0
    const server = await serve((_, response) => {
      response.writeHead(200, streamHeaders)
      void writeLazily(response, () => {
        if (sent >= total) return undefined
        // 64 comment lines per write.
        sent += line.length * 64
        return line.repeat(64)
      }).then(() => response.end('data: after the flood\n\n'))
    })
    let comments = 0
    let peakHeap = 0
    const heapBefore = process.memoryUsage().heapUsed
    const client = fetchEventStream(server.url, {
      reconnect: 'never',
      onComment: () => {
        comments++
        if (comments % 8192 === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)
      },
    })
    const first = await withTimeout(client.next(), 120_000, 'the event after the comment flood')
    expect(first.value?.data).toBe('after the flood')
    expect(comments).toBe(total / 1024)
    const growth = Math.max(0, peakHeap - heapBefore)
    report('client: comment flood (MiB, comment lines, peak heap growth MiB)', {
      mebibytes: total / 1_048_576,
      comments,
      peakHeapGrowthMiB: Math.round(growth / 104_857.6) / 10,
    })
    expect(growth).toBeLessThan(64 * 1_048_576)
    expect(server.requests).toHaveLength(1)
    client.close()
  })

  it('a server that answers 200 with HTML: bad-content-type with the start of the body, no reconnect', async () => {
    const server = await serve((_, response) => {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      response.end(`<!doctype html><title>Login</title>${'<p>filler</p>'.repeat(10_000)}`)
    })
    const client = fetchEventStream(server.url)
    const error = await withTimeout(failureOf(client.next()), 10_000, 'bad-content-type')
    expect(error.code).toBe('bad-content-type')
    expect(error.body?.startsWith('<!doctype html><title>Login</title>')).toBe(true)
    expect(error.body?.length).toBeLessThanOrEqual(1024)
    expect(server.requests).toHaveLength(1)
  })

  it('a server that stalls mid-event: the partial event is never dispatched, idle timeouts back off, then retries-exhausted', async () => {
    const server = await serve((_, response) => {
      response.writeHead(200, streamHeaders)
      response.write('id: 7\ndata: half of an event\n')
    })
    const retries: RetryContext[] = []
    const client = fetchEventStream(server.url, {
      idleTimeoutMs: 200,
      retryMs: 50,
      maxRetries: 3,
      onRetry: (context) => retries.push(context),
    })
    const error = await withTimeout(failureOf(client.next()), 15_000, 'retries-exhausted')
    expect(error.code).toBe('retries-exhausted')
    expect((error.cause as SseError).code).toBe('idle-timeout')
    expect(server.requests).toHaveLength(4)
    // The half event's id never took effect: it was not dispatched.
    expect(server.requests.every((request) => request.lastEventId === undefined)).toBe(true)
    expect(retries.map((retry) => retry.attempt)).toEqual([1, 2, 3])
    // Full jitter under a doubling ceiling: 50, 100, 200 ms.
    retries.forEach((retry, index) => {
      expect(retry.delayMs).toBeLessThanOrEqual(50 * 2 ** index)
    })
  })

  it('a server that closes after every event: one connection per event, resumed by Last-Event-ID, waits drawn within its retry', async () => {
    let next = 0
    const server = await serve((request, response) => {
      const resumed = Number(request.headers['last-event-id'] ?? '0')
      next = resumed + 1
      response.writeHead(200, streamHeaders)
      response.end(`retry: 100\nid: ${next}\ndata: event ${next}\n\n`)
    })
    const retries: RetryContext[] = []
    const client = fetchEventStream(server.url, { onRetry: (context) => retries.push(context) })
    const events: string[] = []
    for (let index = 0; index < 12; index++) {
      const result = await withTimeout(client.next(), 5_000, `event ${index + 1}`)
      events.push(result.value?.data ?? '')
    }
    client.close()
    expect(events).toEqual(Array.from({ length: 12 }, (_, index) => `event ${index + 1}`))
    // Exactly one connection per event (the twelfth may be followed by one more): no extra attempts.
    expect(server.requests.length).toBeGreaterThanOrEqual(12)
    expect(server.requests.length).toBeLessThanOrEqual(13)
    expect(server.requests.slice(0, 12).map((request) => request.lastEventId)).toEqual([
      undefined,
      ...Array.from({ length: 11 }, (_, index) => String(index + 1)),
    ])
    // The server's retry: is honoured as the ceiling of every wait, and every wait is attempt 1.
    expect(retries.every((retry) => retry.attempt === 1 && retry.delayMs <= 100)).toBe(true)
  })

  it('a server that answers 503 at once: attempts back off exponentially and stop at maxRetries', async () => {
    const server = await serve((_, response) => {
      response.writeHead(503, { 'content-type': 'text/plain' })
      response.end('overloaded')
    })
    const retries: RetryContext[] = []
    const client = fetchEventStream(server.url, {
      retryMs: 20,
      maxRetries: 6,
      onRetry: (context) => retries.push(context),
    })
    const error = await withTimeout(
      failureOf(client.next()),
      15_000,
      'retries-exhausted after 503s',
    )
    expect(error.code).toBe('retries-exhausted')
    expect(server.requests).toHaveLength(7)
    expect(retries.map((retry) => retry.attempt)).toEqual([1, 2, 3, 4, 5, 6])
    retries.forEach((retry, index) => {
      expect(retry.delayMs).toBeLessThanOrEqual(20 * 2 ** index)
    })
  })
})
