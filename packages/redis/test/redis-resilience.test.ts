import { type Hub, type HubSubscription, SseError, type SseEvent } from '@ssekit/core'
import { createRedisHub } from '@ssekit/redis'
import { delay, freePort, type RedisServer, startRedisServer } from '@ssekit/test-support'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { take, withTimeout } from '../../core/test/_hub-suite.ts'

let server: RedisServer
let admin: Redis
const hubs: Hub[] = []
let prefixCounter = 0

const open = async (options: Parameters<typeof createRedisHub>[0] = {}) => {
  const hub = await createRedisHub({
    url: server.url,
    prefix: `resilience:${++prefixCounter}:`,
    ...options,
  })
  hubs.push(hub)
  return hub
}

/** Connections other than the admin one. */
const connections = async () =>
  (String(await admin.client('LIST'))
    .trim()
    .split('\n').length as number) - 1

beforeAll(async () => {
  server = await startRedisServer({ streamNodeMaxEntries: 4 })
  admin = new Redis(server.url, { maxRetriesPerRequest: null })
  admin.on('error', () => {})
})
afterEach(async () => {
  await Promise.all(hubs.splice(0).map((hub) => withTimeout(hub.close(), 5000, 'hub.close()')))
})
afterAll(async () => {
  admin?.disconnect()
  await server?.stop()
})

async function until(condition: () => boolean | Promise<boolean>, label: string, ms = 10_000) {
  await withTimeout(
    (async () => {
      while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 20))
    })(),
    ms,
    label,
  )
}

describe('createRedisHub', () => {
  it('fails at start with a clear error when Redis cannot be reached', async () => {
    const port = await freePort()
    const error = await createRedisHub({
      url: `redis://user:hunter2@127.0.0.1:${port}`,
      timeout: 2000,
    }).catch((caught: unknown) => caught)
    expect(SseError.isInstance(error)).toBe(true)
    expect((error as SseError).code).toBe('backend-unavailable')
    expect((error as SseError).message).toContain(`127.0.0.1:${port}`)
    // The password in the URL never reaches the message (and so the logs).
    expect((error as SseError).message).not.toContain('hunter2')
  })

  it('uses two connections per hub whatever the number of subscribers and topics', async () => {
    const before = await connections()
    const hub = await open()
    expect(await connections()).toBe(before + 2)
    const subscriptions = Array.from({ length: 200 }, (_, index) =>
      hub.subscribe(`topic-${index % 20}`),
    )
    await withTimeout(
      Promise.all(subscriptions.map((subscription) => subscription.ready)),
      5000,
      'ready',
    )
    expect(await connections()).toBe(before + 2)
    const id = await hub.publish('topic-7', { data: 'fan-out' })
    for (const subscription of subscriptions.filter((_, index) => index % 20 === 7)) {
      const events = await take(subscription, 2, 'head + live')
      expect(events[1]).toMatchObject({ id, data: 'fan-out' })
    }
    await Promise.all(subscriptions.map((subscription) => subscription.return()))
    await hub.close()
    await until(async () => (await connections()) === before, 'connections released')
  })

  it('leaves no connection, reader or topic behind after 1000 subscribe/unsubscribe cycles', async () => {
    const before = await connections()
    const hub = await open()
    for (let cycle = 0; cycle < 1000; cycle++) {
      const subscription = hub.subscribe(`cycle-${cycle % 10}`, {
        lastEventId: cycle % 2 ? '0-0' : undefined,
      })
      if (cycle % 4 === 0) await withTimeout(subscription.ready, 5000, `ready ${cycle}`)
      await subscription.return()
    }
    await until(() => hub.stats().topics === 0, 'topics released')
    expect(hub.stats()).toMatchObject({ subscribers: 0, queuedBytes: 0 })
    expect(await connections()).toBe(before + 2)
    // The shared subscriber connection left every topic's channel.
    expect(await admin.pubsub('CHANNELS', `resilience:${prefixCounter}:*`)).toEqual([])
    // The shared reader still serves a new subscriber promptly.
    const subscription = hub.subscribe('cycle-3')
    await take(subscription, 1, 'head')
    const id = await hub.publish('cycle-3', { data: 'after cycles' })
    expect((await take(subscription, 1, 'live'))[0]?.id).toBe(id)
  })

  it('works on a client the application owns, and leaves it open on close()', async () => {
    const client = new Redis(server.url)
    try {
      const hub = await createRedisHub({ client, prefix: 'own-client:' })
      const subscription = hub.subscribe('t')
      await take(subscription, 1, 'head')
      const id = await hub.publish('t', { data: 'x' })
      expect((await take(subscription, 1, 'live'))[0]?.id).toBe(id)
      await hub.close()
      expect(client.status).toBe('ready')
      expect(await client.xlen('own-client:t')).toBe(1)
    } finally {
      client.disconnect()
    }
  })

  it('bounds each stream by count and gives it a TTL of history.maxAge plus lastIdMaxAge (a day)', async () => {
    const hub = await open({ prefix: 'bounded:', history: { maxEvents: 10, maxAge: 60_000 } })
    for (let index = 0; index < 100; index++) await hub.publish('t', { data: String(index) })
    const length = await admin.xlen('bounded:t')
    // `MAXLEN ~` trims whole stream nodes (4 entries each on the test server).
    expect(length).toBeGreaterThanOrEqual(10)
    expect(length).toBeLessThan(20)
    // A quiet stream is emptied after maxAge but kept a day longer for its last id.
    const day = 24 * 60 * 60_000
    const ttl = await admin.pttl('bounded:t')
    expect(ttl).toBeGreaterThan(day + 55_000)
    expect(ttl).toBeLessThanOrEqual(day + 60_000)
    const short = await open({
      prefix: 'short-lived:',
      history: { maxAge: 60_000, lastIdMaxAge: 10_000 },
    })
    await short.publish('t', { data: 'answer' })
    const shortTtl = await admin.pttl('short-lived:t')
    expect(shortTtl).toBeGreaterThan(65_000)
    expect(shortTtl).toBeLessThanOrEqual(70_000)
  })

  it('close() lets publishes already accepted reach Redis (a SIGTERM right after a publish)', async () => {
    const hub = await createRedisHub({ url: server.url, prefix: 'in-flight:' })
    const published = [1, 2, 3].map((index) => hub.publish('t', { data: String(index) }))
    await withTimeout(hub.close(), 5000, 'hub.close()')
    const ids = await Promise.all(published)
    expect(ids).toHaveLength(3)
    expect(await admin.xlen('in-flight:t')).toBe(3)
  })

  it('rejects options that cannot work', async () => {
    await expect(createRedisHub({ url: server.url, prefix: 'a\nb' })).rejects.toThrow(/prefix/)
    await expect(createRedisHub({ url: server.url, history: { maxEvents: 0 } })).rejects.toThrow(
      /history.maxEvents/,
    )
    await expect(
      createRedisHub({ url: server.url, history: { lastIdMaxAge: -1 } }),
    ).rejects.toThrow(/history.lastIdMaxAge/)
  })

  it('escapes topics into keys under the prefix, so no topic reaches another key', async () => {
    const hub = await open({ prefix: 'escape-test:' })
    const topics = ['plain', 'a:b', '{tag}', 'a b*?[x]', '../../etc', 'ü😀']
    for (const topic of topics) await hub.publish(topic, { data: topic })
    const keys = (await admin.keys('escape-test:*')).sort()
    expect(keys).toEqual(topics.map((topic) => `escape-test:${encodeURIComponent(topic)}`).sort())
    for (const key of keys)
      expect(key.slice('escape-test:'.length)).toMatch(/^[A-Za-z0-9%._~!'()*-]+$/)
    const history = hub.subscribe('a:b', { lastEventId: '0-0' })
    expect((await take(history, 1, 'replay'))[0]?.data).toBe('a:b')
  })

  it('shares streams between two hubs: publish on one, resume on the other with exactly-once delivery', async () => {
    const first = await open({ prefix: 'shared:' })
    const second = await createRedisHub({ url: server.url, prefix: 'shared:' })
    hubs.push(second)
    const onFirst = first.subscribe('news')
    const onSecond = second.subscribe('news')
    await take(onFirst, 1, 'first head')
    await take(onSecond, 1, 'second head')
    const ids: string[] = []
    for (let index = 1; index <= 10; index++)
      ids.push(await first.publish('news', { data: String(index) }))
    expect((await take(onSecond, 10, 'second live')).map((event) => event.id)).toEqual(ids)
    // A client reading from the first hub drops after 4 events and reconnects to the second.
    const seen = await take(onFirst, 4, 'first live')
    await onFirst.return()
    for (let index = 11; index <= 15; index++)
      ids.push(await first.publish('news', { data: String(index) }))
    const resumed = second.subscribe('news', { lastEventId: seen[3]?.id })
    const rest = await take(resumed, 11, 'resumed on second')
    expect([...seen, ...rest].map((event) => event.id)).toEqual(ids)
    ids.push(await second.publish('news', { data: '16' }))
    expect((await take(resumed, 1, 'live after resume'))[0]?.id).toBe(ids[15])
  })

  it('rejects publish at once while Redis is down, and recovers after it restarts', async () => {
    const errors: Error[] = []
    const hub = await open({ onBackendError: (error) => errors.push(error) })
    const subscription = hub.subscribe('outage')
    await take(subscription, 1, 'head')
    const before = await hub.publish('outage', { data: 'before' })
    await server.kill()
    try {
      const error = await withTimeout(
        hub.publish('outage', { data: 'during' }).catch((caught: unknown) => caught),
        2000,
        'publish while down',
      )
      expect(SseError.isInstance(error) && error.code).toBe('backend-unavailable')
    } finally {
      await server.restart()
    }
    await until(async () => {
      try {
        await hub.publish('outage', { data: 'after' })
        return true
      } catch {
        return false
      }
    }, 'publish after restart')
    const events = await take(subscription, 2, 'before + after')
    expect(events.map((event) => event.data)).toEqual(['before', 'after'])
    expect(events[0]?.id).toBe(before)
    expect(errors.length).toBeGreaterThan(0)
  })

  it('resumes a client that was up to date after its topic was quiet past history.maxAge, as the memory hub does', async () => {
    const history = { maxAge: 50, maxEvents: 5 }
    const publisher = await open({ prefix: 'quiet:', history })
    // A second hub with its own connections, as another process would have, serves reconnects.
    const other = await open({ prefix: 'quiet:', history })
    const live = other.subscribe('t')
    await take(live, 1, 'head')
    const older = await publisher.publish('t', { data: 'older' })
    const last = await publisher.publish('t', { data: 'last' })
    expect((await take(live, 2, 'live')).map((event) => event.id)).toEqual([older, last])
    // Quiet for longer than maxAge and the second of slack on the stream's TTL: both entries
    // have aged out of history.
    await delay(history.maxAge + 1500)
    await until(async () => (await admin.xlen('quiet:t')) === 0, 'entries aged out', 5000)

    // A newcomer still gets the last id, so its own reconnect can resume.
    const newcomer = other.subscribe('t')
    const [head] = await take(newcomer, 1, 'newcomer head')
    expect(head?.id).toBe(last)
    expect(Object.keys(head as SseEvent)).toEqual(['id'])
    // A client that had the last event resumes without a reset, and gets the next one.
    const upToDate = other.subscribe('t', { lastEventId: last })
    await withTimeout(upToDate.ready, 5000, 'up to date ready')
    const fresh = await publisher.publish('t', { data: 'fresh' })
    for (const [subscription, label] of [
      [upToDate, 'resumed at the last id'],
      [newcomer, 'newcomer'],
      [live, 'live through the quiet spell'],
    ] as const) {
      expect((await take(subscription, 1, label))[0]).toMatchObject({ id: fresh, data: 'fresh' })
    }
    // Reconnecting at the last id after that event replays it.
    const reconnected = publisher.subscribe('t', { lastEventId: last })
    expect((await take(reconnected, 1, 'replay'))[0]).toMatchObject({ id: fresh, data: 'fresh' })
    // An id whose successor aged out is still evicted: no silent hole.
    const behind = other.subscribe('t', { lastEventId: older })
    const [reset] = await take(behind, 1, 'reset')
    expect(reset).toMatchObject({ event: 'reset', id: fresh })
    expect(JSON.parse(reset?.data as string)).toEqual({ reason: 'evicted' })
    // Once entries after the emptying are trimmed too, the last id no longer resumes.
    for (let index = 0; index < 20; index++) await publisher.publish('t', { data: String(index) })
    const late = other.subscribe('t', { lastEventId: last })
    const [trimmed] = await take(late, 1, 'reset after a trim')
    expect(trimmed).toMatchObject({ event: 'reset' })
    expect(JSON.parse(trimmed?.data as string)).toEqual({ reason: 'evicted' })
    // The emptied stream is not kept for ever.
    expect(await admin.pttl('quiet:t')).toBeGreaterThan(0)
  })

  it('tells live subscribers with a reset when their place was trimmed while they were cut off', async () => {
    const listening = await open({ prefix: 'trimmed:', history: { maxEvents: 5 } })
    const publisher = await createRedisHub({
      url: server.url,
      prefix: 'trimmed:',
      history: { maxEvents: 5 },
    })
    hubs.push(publisher)
    const subscription = listening.subscribe('t')
    await take(subscription, 1, 'head')
    const first = await publisher.publish('t', { data: 'first' })
    expect((await take(subscription, 1, 'first'))[0]?.id).toBe(first)
    // Cut the listening hub's subscriber connection; it reconnects after its backoff (100 ms),
    // after far more than the history bound was published.
    await admin.client('KILL', 'TYPE', 'pubsub')
    // Sent together (one pipelined write), so they land well within that backoff.
    const ids = await Promise.all(
      Array.from({ length: 40 }, (_, index) => publisher.publish('t', { data: String(index) })),
    )
    // Whenever it came back, it said so: a reset at the id it resumed from, then every later
    // event, none silently skipped.
    const [reset] = await take(subscription, 1, 'after the reconnect')
    expect(reset).toMatchObject({ event: 'reset' })
    expect(JSON.parse(reset?.data as string)).toEqual({ reason: 'evicted' })
    const position = ids.indexOf(reset?.id as string)
    expect(position).toBeGreaterThanOrEqual(5)
    const rest = await take(subscription, ids.length - position - 1, 'after the reset')
    expect(rest.map((event) => event.id)).toEqual(ids.slice(position + 1))
    const next = await publisher.publish('t', { data: 'live again' })
    expect((await take(subscription, 1, 'live again'))[0]).toMatchObject({
      id: next,
      data: 'live again',
    })
  })

  it('delivers every accepted event exactly once across a redis-server crash and restart', async () => {
    const publisher = await open({ prefix: 'crash:' })
    const other = await createRedisHub({ url: server.url, prefix: 'crash:' })
    hubs.push(other)
    const readers: HubSubscription[] = [publisher.subscribe('ticks'), other.subscribe('ticks')]
    for (const reader of readers) await take(reader, 1, 'head')
    const received: SseEvent[][] = readers.map(() => [])
    const collecting = readers.map((reader, index) =>
      (async () => {
        for await (const event of reader) {
          received[index]?.push(event)
          if (event.data === 'last') return
        }
      })(),
    )
    const accepted: string[] = []
    const retried = new Set<string>()
    const publish = async (data: string) => {
      for (;;) {
        try {
          accepted.push(await publisher.publish('ticks', { data }))
          return
        } catch (error) {
          if (!(SseError.isInstance(error) && error.code === 'backend-unavailable')) throw error
          retried.add(data)
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
      }
    }
    const publishing = (async () => {
      for (let index = 1; index <= 300; index++) await publish(String(index))
      await publish('last')
    })()
    await until(() => accepted.length >= 100, '100 accepted before the crash')
    await server.kill()
    await new Promise((resolve) => setTimeout(resolve, 200))
    await server.restart()
    await withTimeout(publishing, 20_000, 'publishing through the restart')
    await withTimeout(Promise.all(collecting), 20_000, 'subscribers see the last event')
    expect(accepted.length).toBeGreaterThanOrEqual(301)
    for (const events of received) {
      const ids = events.map((event) => event.id as string)
      // Each stored entry once and in order; every accepted one among them.
      expect(new Set(ids).size).toBe(ids.length)
      expect([...ids].sort(compareIds)).toEqual(ids)
      for (const id of accepted) expect(ids).toContain(id)
      // A payload appears twice only if its publish failed and was retried (the reply was lost).
      const payloads = events.map((event) => event.data as string)
      const duplicates = payloads.filter((payload, index) => payloads.indexOf(payload) !== index)
      for (const payload of duplicates) expect(retried.has(payload)).toBe(true)
      expect(new Set(payloads).size).toBe(301)
    }
  }, 60_000)
})

function compareIds(a: string, b: string): number {
  const [am = '', as = ''] = a.split('-')
  const [bm = '', bs = ''] = b.split('-')
  return (
    am.length - bm.length || am.localeCompare(bm) || as.length - bs.length || as.localeCompare(bs)
  )
}
