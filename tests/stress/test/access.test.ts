import { createHub, type Hub } from '@ssekit/core'
import { fetchEventStream } from '@ssekit/fetch-client'
import { createConnectionLimit } from '@ssekit/node'
import { createRedisHub } from '@ssekit/redis'
import { type RedisServer, startRedisServer, waitFor, withTimeout } from '@ssekit/test-support'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serveHub, userOf } from '../src/_hub-server.ts'
import type { LoopbackServer } from '../src/_loopback-server.ts'

let redis: RedisServer
beforeAll(async () => {
  redis = await startRedisServer()
})
afterAll(async () => {
  await redis?.stop()
})

const authorize = ({ topic, request }: { topic: string; request: unknown }) =>
  topic === `user:${userOf(request)}`

/** One request as `user` for `topic`; resolves with the status and up to `count` events' data. */
async function read(
  server: LoopbackServer,
  user: string,
  topic: string,
  count: number,
  lastEventId?: string,
): Promise<{ status: number; events: { id: string | undefined; data: string; type: string }[] }> {
  const controller = new AbortController()
  const headers: Record<string, string> = { 'x-user': user, accept: 'text/event-stream' }
  if (lastEventId !== undefined) headers['last-event-id'] = lastEventId
  const response = await fetch(`${server.url}/?topic=${encodeURIComponent(topic)}`, {
    headers,
    signal: controller.signal,
  })
  if (response.status !== 200) {
    await response.body?.cancel()
    return { status: response.status, events: [] }
  }
  const events: { id: string | undefined; data: string; type: string }[] = []
  const client = fetchEventStream(`${server.url}/?topic=${encodeURIComponent(topic)}`, {
    // Re-read the same response through the client's parser: one connection, counted once.
    fetch: async () => response,
    reconnect: 'never',
  })
  try {
    while (events.length < count) {
      const result = await client.next()
      if (result.done) break
      events.push({ id: result.value.id, data: result.value.data, type: result.value.type })
    }
  } finally {
    client.close()
    controller.abort()
  }
  return { status: 200, events }
}

const subscribed: string[] = []
const onSubscribe = ({ topic }: { topic: string }) => void subscribed.push(topic)

describe.each([
  ['memory hub', () => Promise.resolve(createHub({ authorize, onSubscribe }))],
  [
    'Redis hub',
    () =>
      createRedisHub({ url: redis.url, prefix: `access:${Date.now()}:`, authorize, onSubscribe }),
  ],
])('authorize with two users (%s)', (_, makeHub) => {
  let hub: Hub
  let server: LoopbackServer
  beforeAll(async () => {
    hub = await makeHub()
    server = await serveHub(hub)
  })
  afterAll(async () => {
    await server?.close()
    await hub?.close()
  })

  it('neither user reads the other topic, live or by replay with a guessed Last-Event-ID', async () => {
    const aliceIds: string[] = []
    for (let index = 1; index <= 5; index++) {
      aliceIds.push(await hub.publish('user:alice', { data: `alice secret ${index}` }))
      await hub.publish('user:bob', { data: `bob note ${index}` })
    }
    // Live: each subscribes to their own topic and sees their own events only.
    const aliceLive = read(server, 'alice', 'user:alice', 3, aliceIds[1])
    subscribed.length = 0
    const bobLive = read(server, 'bob', 'user:bob', 1)
    const alice = await withTimeout(aliceLive, 5_000, 'alice replays her own events')
    expect(alice.events.map((event) => event.data)).toEqual([
      'alice secret 3',
      'alice secret 4',
      'alice secret 5',
    ])
    await waitFor(() => subscribed.includes('user:bob'), 5_000, 'bob subscribed')
    await hub.publish('user:bob', { data: 'bob live' })
    const bob = await withTimeout(bobLive, 5_000, 'bob reads his live event')
    // A fresh subscription starts with an id-only block, which is not an event: then the live one.
    expect(bob.events.map((event) => event.data)).toEqual(['bob live'])

    // Bob asks for Alice's topic: refused before any event, with or without her real ids.
    for (const lastEventId of [undefined, aliceIds[0], aliceIds[4], '0', '0-0']) {
      const attempt = await read(server, 'bob', 'user:alice', 1, lastEventId)
      expect(attempt).toEqual({ status: 403, events: [] })
    }
    // Bob replays his own topic with Alice's ids: he gets his own events or a reset, never hers.
    for (const lastEventId of aliceIds) {
      const attempt = await withTimeout(
        read(server, 'bob', 'user:bob', 1, lastEventId),
        5_000,
        `bob resumes with alice's id ${lastEventId}`,
      )
      expect(attempt.status).toBe(200)
      for (const event of attempt.events) {
        expect(event.data).not.toContain('alice')
        if (event.type === 'reset') expect(JSON.parse(event.data)).toHaveProperty('reason')
        else expect(event.data).toMatch(/^bob /)
      }
    }
    // A refused subscription never counted as a subscriber, and every connection let go of its own.
    await waitFor(() => hub.stats().subscribers === 0, 5_000, 'every subscription released')
  })
})

describe('connection caps per key', () => {
  it('answers 429 with Retry-After over the cap, frees the slot when a stream closes, and counts per key', async () => {
    const hub = createHub()
    const limit = createConnectionLimit({ max: 2, key: userOf, retryAfter: 7 })
    await using server = await serveHub(hub, { limit })
    try {
      const open = [new AbortController(), new AbortController()]
      const responses = await Promise.all(
        open.map((controller) =>
          fetch(`${server.url}/?topic=t`, {
            headers: { 'x-user': 'carol' },
            signal: controller.signal,
          }),
        ),
      )
      expect(responses.map((response) => response.status)).toEqual([200, 200])
      expect(limit.count('carol')).toBe(2)

      const refused = await fetch(`${server.url}/?topic=t`, { headers: { 'x-user': 'carol' } })
      expect(refused.status).toBe(429)
      expect(refused.headers.get('retry-after')).toBe('7')
      expect(await refused.text()).toMatch(/Too many open event streams.*limit is 2/)

      // Another key is not affected.
      const dave = new AbortController()
      const daveResponse = await fetch(`${server.url}/?topic=t`, {
        headers: { 'x-user': 'dave' },
        signal: dave.signal,
      })
      expect(daveResponse.status).toBe(200)

      // Our client classifies the 429 as retryable and waits the Retry-After, not a storm.
      const retries: number[] = []
      const client = fetchEventStream(`${server.url}/?topic=t`, {
        headers: { 'x-user': 'carol' },
        maxRetries: 1,
        onRetry: ({ delayMs }) => {
          retries.push(delayMs)
          client.close()
        },
      })
      await withTimeout(client.next(), 5_000, 'the client sees the 429')
      expect(retries).toEqual([7_000])

      open[0]?.abort()
      await waitFor(() => limit.count('carol') === 1, 5_000, 'the slot freed on disconnect')
      const again = new AbortController()
      const admitted = await fetch(`${server.url}/?topic=t`, {
        headers: { 'x-user': 'carol' },
        signal: again.signal,
      })
      expect(admitted.status).toBe(200)
      for (const controller of [...open, dave, again]) controller.abort()
      await waitFor(() => limit.keys === 0, 5_000, 'every slot freed')
    } finally {
      await hub.close()
    }
  })

  it('refuses options that cannot work with a TypeError that says why', () => {
    expect(() => createConnectionLimit({ max: 0 })).toThrow(/max.*positive whole number/)
    expect(() => createConnectionLimit({ max: 1, retryAfter: -1 })).toThrow(/retryAfter/)
  })
})
