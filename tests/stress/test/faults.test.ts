import { type Hub, SseError } from '@ssekit/core'
import { createRedisHub } from '@ssekit/redis'
import {
  delay,
  freePort,
  type RedisServer,
  startRedisServer,
  waitFor,
  withTimeout,
} from '@ssekit/test-support'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type Child, startChild } from '../src/_child.ts'
import { type Collector, collect } from '../src/_collector.ts'
import { serveHub } from '../src/_hub-server.ts'
import { report, size } from '../src/_params.ts'

let redis: RedisServer
const children: Child[] = []
const collectors: Collector[] = []
beforeAll(async () => {
  redis = await startRedisServer()
})
afterEach(async () => {
  for (const collector of collectors.splice(0)) collector.close()
  for (const child of children.splice(0)) await child.kill()
})
afterAll(async () => {
  await redis?.stop()
})

function startSseServer(port: number, prefix: string): Child {
  const child = startChild('./_redis-sse-server.ts', {
    PORT: String(port),
    REDIS_URL: redis.url,
    PREFIX: prefix,
  })
  children.push(child)
  return child
}

/** Publishes `count` events numbered from 1 every `everyMs`, recording which Redis accepted. */
async function publishAll(
  hub: Hub,
  topic: string,
  count: number,
  everyMs: number,
  during?: (index: number) => Promise<void> | void,
) {
  const accepted: string[] = []
  const refused: { data: string; code: string }[] = []
  for (let index = 1; index <= count; index++) {
    await during?.(index)
    try {
      await hub.publish(topic, { data: String(index) })
      accepted.push(String(index))
    } catch (error) {
      // Loud: a typed error, never a silent drop.
      expect(SseError.isInstance(error)).toBe(true)
      refused.push({ data: String(index), code: (error as SseError).code })
    }
    await delay(everyMs)
  }
  return { accepted, refused }
}

describe('faults', () => {
  it('the SSE server is SIGKILLed mid-stream and restarted: every client resumes by Last-Event-ID and gets every event exactly once', async () => {
    const port = await freePort()
    const prefix = `kill:${Date.now()}:`
    const clients = size(20, 200)
    const events = size(200, 2_000)
    let server = startSseServer(port, prefix)
    await server.next('ready', 20_000, 'the SSE server starts')
    const publisher = await createRedisHub({ url: redis.url, prefix })
    try {
      for (let index = 0; index < clients; index++) {
        collectors.push(collect(`http://127.0.0.1:${port}/?topic=feed`))
      }
      await waitFor(
        () => collectors.every((client) => client.opens === 1),
        10_000,
        'every client connected',
      )
      let killedAt = 0
      const { accepted, refused } = await publishAll(
        publisher,
        'feed',
        events,
        5,
        async (index) => {
          if (index === Math.floor(events / 3)) {
            await server.kill()
            killedAt = index
            // Down for a while: clients retry against a closed port, events keep being published.
            await delay(300)
            server = startSseServer(port, prefix)
            await server.next('ready', 20_000, 'the SSE server restarts')
          }
        },
      )
      expect(refused).toEqual([])
      await withTimeout(
        waitFor(
          () => collectors.every((client) => client.data.length >= accepted.length),
          30_000,
          'all delivered',
        ),
        35_000,
        'every client catches up',
      )
      await delay(200)
      for (const client of collectors) {
        expect(client.data).toEqual(accepted)
        expect(client.opens).toBeGreaterThanOrEqual(2)
      }
      report(
        'fault: SSE server SIGKILL + restart (clients, published, delivered per client, killed at)',
        {
          clients,
          published: accepted.length,
          deliveredExactlyOnce: collectors.every(
            (client) => client.data.length === accepted.length,
          ),
          killedAtEvent: killedAt,
          reconnects: collectors.reduce((total, client) => total + client.opens - 1, 0),
        },
      )
    } finally {
      await publisher.close()
    }
  })

  it('closeEventStreams under load ends every stream within the grace period; clients come back spread over the jitter window', async () => {
    const port = await freePort()
    const prefix = `shutdown:${Date.now()}:`
    const clients = size(100, 1_000)
    let server = startSseServer(port, prefix)
    await server.next('ready', 20_000, 'the SSE server starts')
    const publisher = await createRedisHub({ url: redis.url, prefix })
    const delays: number[] = []
    try {
      for (let index = 0; index < clients; index++) {
        collectors.push(
          collect(`http://127.0.0.1:${port}/?topic=feed`, {
            onRetry: ({ attempt, delayMs }) => {
              if (attempt === 1) delays.push(delayMs)
            },
          }),
        )
      }
      await waitFor(
        () => collectors.every((client) => client.opens === 1),
        20_000,
        'every client connected',
      )
      let publishing = true
      const accepted: string[] = []
      const load = (async () => {
        for (let index = 1; publishing; index++) {
          await publisher.publish('feed', { data: String(index) })
          accepted.push(String(index))
          await delay(10)
        }
      })()
      await delay(300)
      const graceMs = 3_000
      const from = server.messages.length
      server.send({ type: 'shutdown', graceMs, retry: 500, retryJitter: 3_000 })
      const result = await server.next(
        'shutdown',
        graceMs + 5_000,
        'closeEventStreams returns',
        from,
      )
      // Every stream ended cleanly, none had to be destroyed, within the grace period.
      expect(result['closed']).toBe(clients)
      expect(result['destroyed']).toBe(0)
      expect(result['elapsedMs'] as number).toBeLessThanOrEqual(graceMs)
      server = startSseServer(port, prefix)
      await server.next('ready', 20_000, 'the SSE server restarts')
      await waitFor(
        () => collectors.every((client) => client.opens >= 2),
        30_000,
        'every client reconnected',
      )
      publishing = false
      await load
      await waitFor(
        () => collectors.every((client) => client.data.length >= accepted.length),
        20_000,
        'caught up',
      )
      for (const client of collectors) {
        expect(client.data).toEqual(accepted)
      }
      // The first reconnect of each client was planned within its own jittered retry: spread out,
      // not in lockstep. A fleet in lockstep would put every client in one 100 ms bucket.
      expect(delays).toHaveLength(clients)
      const buckets = new Map<number, number>()
      for (const value of delays)
        buckets.set(Math.floor(value / 100), (buckets.get(Math.floor(value / 100)) ?? 0) + 1)
      const busiest = Math.max(...buckets.values())
      expect(busiest / clients).toBeLessThan(0.25)
      expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(1_000)
      report(
        'shutdown: closeEventStreams under load (clients, closed, destroyed, ms, reconnect delay spread)',
        {
          clients,
          closed: result['closed'],
          destroyed: result['destroyed'],
          elapsedMs: result['elapsedMs'],
          published: accepted.length,
          deliveredExactlyOnce: true,
          reconnectDelayMs: {
            min: Math.min(...delays),
            max: Math.max(...delays),
            busiest100msShare: busiest / clients,
          },
        },
      )
    } finally {
      await publisher.close()
    }
  })

  it('Redis crashes and restarts, is paused, then frozen during publishing: nothing Redis accepted is lost, publishing while down fails loudly', async () => {
    const prefix = `redis-faults:${Date.now()}:`
    const events = size(300, 3_000)
    const serverHub = await createRedisHub({ url: redis.url, prefix, timeout: 1_000 })
    const publisher = await createRedisHub({ url: redis.url, prefix, timeout: 1_000 })
    const admin = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 })
    await using server = await serveHub(serverHub)
    try {
      for (let index = 0; index < size(5, 50); index++) {
        collectors.push(collect(`${server.url}/?topic=feed`, { retryMs: 100, maxRetryMs: 500 }))
      }
      await waitFor(
        () => collectors.every((client) => client.opens === 1),
        10_000,
        'every client connected',
      )
      const faults: string[] = []
      const { accepted, refused } = await publishAll(
        publisher,
        'feed',
        events,
        5,
        async (index) => {
          if (index === Math.floor(events * 0.25)) {
            faults.push('crash')
            await redis.kill()
            await delay(400)
            await redis.restart()
          } else if (index === Math.floor(events * 0.5)) {
            faults.push('pause')
            await admin.connect().catch(() => {})
            await admin.call('CLIENT', 'PAUSE', '600', 'WRITE')
          } else if (index === Math.floor(events * 0.75)) {
            faults.push('freeze')
            redis.freeze()
            setTimeout(() => redis.thaw(), 1_500)
          }
        },
      )
      // Each subscriber ends with every accepted event, once and in order; an event whose publish
      // timed out while Redis was frozen may still have been stored, and is then delivered too.
      const refusedData = new Set(refused.map((item) => item.data))
      await withTimeout(
        waitFor(
          () => collectors.every((client) => accepted.every((data) => client.data.includes(data))),
          30_000,
          'all accepted events delivered',
        ),
        35_000,
        'every subscriber catches up',
      )
      await delay(300)
      for (const client of collectors) {
        const delivered = client.data.filter((data) => !refusedData.has(data))
        expect(delivered).toEqual(accepted)
        expect(new Set(client.data).size).toBe(client.data.length)
        const numbers = client.data.map(Number)
        expect(numbers).toEqual([...numbers].sort((a, b) => a - b))
      }
      expect(refused.length).toBeGreaterThan(0)
      expect(new Set(refused.map((item) => item.code))).toEqual(new Set(['backend-unavailable']))
      const deliveredAnyway = refused.filter((item) =>
        collectors[0]?.data.includes(item.data),
      ).length
      report(
        'fault: Redis crash/pause/freeze (published, accepted, refused loudly, refused-but-stored, delivered per client)',
        {
          faults,
          published: events,
          accepted: accepted.length,
          refused: refused.length,
          refusedButStored: deliveredAnyway,
          deliveredPerClient: collectors.map((client) => client.data.length),
        },
      )
    } finally {
      admin.disconnect()
      await publisher.close()
      await serverHub.close()
    }
  })
})
