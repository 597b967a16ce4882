// The hubs behind real node:http servers on 127.0.0.1, read by real HTTP clients.
import { createServer, type Server } from 'node:http'
import { connect } from 'node:net'
import { createHub, type Hub } from '@ssekit/core'
import { sendEventStream } from '@ssekit/node'
import { createRedisHub } from '@ssekit/redis'
import { type RedisServer, startRedisServer } from '@ssekit/test-support'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { withTimeout } from '../../core/test/_hub-suite.ts'

interface ParsedEvent {
  id?: string
  event?: string
  data?: string
}

const cleanups: (() => Promise<void>)[] = []
let redis: RedisServer

beforeAll(async () => {
  redis = await startRedisServer({ streamNodeMaxEntries: 4 })
})
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})
afterAll(async () => {
  await redis?.stop()
})

/** An SSE endpoint at `/<topic>` that streams `hub.subscribe(topic)`. */
async function serve(hub: Hub, options: { signal?: boolean } = {}): Promise<string> {
  const server: Server = createServer((request, response) => {
    const topic = decodeURIComponent((request.url ?? '/').slice(1))
    void sendEventStream(request, response, ({ signal, lastEventId }) =>
      hub.subscribe(topic, { signal: options.signal === false ? undefined : signal, lastEventId }),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
  const address = server.address()
  return `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
}

/** Reads events from an SSE response body (ours writes LF line ends only). */
async function* eventsOf(body: ReadableStream<Uint8Array>): AsyncGenerator<ParsedEvent> {
  const decoder = new TextDecoder()
  let buffer = ''
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true })
    let end = buffer.indexOf('\n\n')
    while (end !== -1) {
      const block = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      const event: ParsedEvent = {}
      for (const line of block.split('\n')) {
        if (line.startsWith(':') || line === '') continue
        const [field, value] = [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]
        if (field === 'data')
          event.data = event.data === undefined ? value : `${event.data}\n${value}`
        else if (field === 'id' || field === 'event') event[field] = value
      }
      if (Object.keys(event).length > 0) yield event
      end = buffer.indexOf('\n\n')
    }
  }
}

async function open(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController()
  const response = await withTimeout(
    fetch(url, { headers, signal: controller.signal }),
    5000,
    `GET ${url}`,
  )
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
  const events = eventsOf(response.body as ReadableStream<Uint8Array>)
  return {
    events,
    async take(count: number, label: string): Promise<ParsedEvent[]> {
      const taken: ParsedEvent[] = []
      await withTimeout(
        (async () => {
          while (taken.length < count) {
            const { done, value } = await events.next()
            if (done) throw new Error(`${label}: stream ended after ${taken.length} events`)
            taken.push(value)
          }
        })(),
        10_000,
        label,
      )
      return taken
    },
    close: () => controller.abort(),
  }
}

describe('hubs over node:http', () => {
  it('a browser-like client moves from one server to another with Last-Event-ID and misses nothing', async () => {
    const first = await createRedisHub({ url: redis.url, prefix: 'http:' })
    const second = await createRedisHub({ url: redis.url, prefix: 'http:' })
    cleanups.push(
      () => first.close(),
      () => second.close(),
    )
    const [urlA, urlB] = await Promise.all([serve(first), serve(second)])
    const onA = await open(`${urlA}/room%3A1`)
    const [head] = await onA.take(1, 'id-only block on A')
    expect(head?.data).toBeUndefined()
    const ids: string[] = []
    for (let index = 1; index <= 6; index++)
      ids.push(await second.publish('room:1', { data: `m${index}` }))
    const seen = await onA.take(3, 'three events on A')
    onA.close()
    for (let index = 7; index <= 9; index++)
      ids.push(await first.publish('room:1', { data: `m${index}` }))
    const onB = await open(`${urlB}/room%3A1`, { 'last-event-id': seen[2]?.id as string })
    const rest = await onB.take(6, 'the rest on B')
    onB.close()
    expect([...seen, ...rest].map((event) => event.id)).toEqual(ids)
    expect([...seen, ...rest].map((event) => event.data)).toEqual(
      ids.map((_, index) => `m${index + 1}`),
    )
  })

  it('a subscription served without a signal still ends when its client goes away', async () => {
    const hub = createHub()
    cleanups.push(() => hub.close())
    const url = await serve(hub, { signal: false })
    const clients = [await open(`${url}/news`), await open(`${url}/news`)]
    for (const client of clients) await client.take(1, 'head')
    expect(hub.stats().subscribers).toBe(2)
    clients[0]?.close()
    await withTimeout(
      (async () => {
        while (hub.stats().subscribers !== 1) await new Promise((resolve) => setTimeout(resolve, 5))
      })(),
      5000,
      'the first subscription ended',
    )
    const id = await hub.publish('news', { data: 'still here' })
    expect((await clients[1]?.take(1, 'the other client'))?.[0]?.id).toBe(id)
    clients[1]?.close()
  })

  it('a client that stops reading is cut off at its bound while the others get everything', async () => {
    const maxBytes = 64 * 1024
    let peakQueued = 0
    const hub = createHub({ queue: { maxBytes } })
    cleanups.push(() => hub.close())
    const url = await serve(hub)
    const readers = [await open(`${url}/feed`), await open(`${url}/feed`)]
    for (const reader of readers) await reader.take(1, 'head')
    // The stalled client: a raw socket that sends the request and never reads a byte.
    const port = Number(new URL(url).port)
    const stalled = connect(port, '127.0.0.1')
    stalled.pause()
    cleanups.push(async () => {
      stalled.destroy()
    })
    await new Promise<void>((resolve) => stalled.once('connect', () => resolve()))
    stalled.write('GET /feed HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n')
    await withTimeout(
      (async () => {
        while (hub.stats().subscribers < 3) await new Promise((resolve) => setTimeout(resolve, 5))
      })(),
      5000,
      'stalled client subscribed',
    )
    const payload = 'x'.repeat(8 * 1024)
    const total = 1200
    const received = readers.map(() => 0)
    const reading = readers.map((reader, index) =>
      (async () => {
        for await (const event of reader.events) {
          if (event.data?.endsWith(payload)) received[index] = (received[index] ?? 0) + 1
          if (received[index] === total) return
        }
      })(),
    )
    // Batches of 4 events (32 KiB, under the bound), each one waited for by the reading clients:
    // they never fall behind, the stalled one falls further behind with every batch.
    for (let batch = 0; batch < total / 4; batch++) {
      for (let index = 0; index < 4; index++)
        await hub.publish('feed', { data: `${batch}:${payload}` })
      peakQueued = Math.max(peakQueued, hub.stats().queuedBytes)
      await withTimeout(
        (async () => {
          while (received.some((count) => count < (batch + 1) * 4)) {
            await new Promise((resolve) => setTimeout(resolve, 1))
          }
        })(),
        10_000,
        `batch ${batch} reaches the reading clients`,
      )
    }
    await withTimeout(Promise.all(reading), 10_000, 'readers finish')
    expect(received).toEqual([total, total])
    expect(hub.stats()).toMatchObject({ disconnects: 1, subscribers: 2 })
    // Never more than each subscriber's bound waited in memory at once.
    expect(peakQueued).toBeLessThanOrEqual(3 * maxBytes)
    for (const reader of readers) reader.close()
  }, 60_000)
})
