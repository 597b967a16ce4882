import { createHub, type Hub } from '@ssekit/core'
import { createRedisHub } from '@ssekit/redis'
import { type RedisServer, startRedisServer, withTimeout } from '@ssekit/test-support'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serveHub } from '../src/_hub-server.ts'
import type { LoopbackServer } from '../src/_loopback-server.ts'

let redis: RedisServer
beforeAll(async () => {
  redis = await startRedisServer()
})
afterAll(async () => {
  await redis?.stop()
})

/** Reads the first frame that is not a comment from `url`, sending `headers`. */
async function firstFrame(url: string, headers: Record<string, string> = {}): Promise<string> {
  const controller = new AbortController()
  const response = await fetch(url, { headers, signal: controller.signal })
  expect(response.status).toBe(200)
  const reader = (response.body as ReadableStream<Uint8Array>).getReader()
  const decoder = new TextDecoder()
  let text = ''
  try {
    for (;;) {
      const frames = text.split('\n\n')
      const frame = frames.slice(0, -1).find((candidate) => !candidate.startsWith(':'))
      if (frame !== undefined) return frame
      const { done, value } = await reader.read()
      if (done) throw new Error(`the stream ended before a frame: ${JSON.stringify(text)}`)
      text += decoder.decode(value, { stream: true })
    }
  } finally {
    controller.abort()
  }
}

const hostileIds: [string, { header?: string; query?: string }][] = [
  ['over 1 KiB', { header: '1'.repeat(1025) }],
  ['8 KiB', { header: 'x'.repeat(8_192) }],
  ['not an id this hub issues', { header: 'not-an-id' }],
  ['a huge number', { header: '99999999999999999999999999' }],
  ['negative', { header: '-1' }],
  ['a path', { header: '../../etc/passwd' }],
  ['a Redis range operator', { header: '+' }],
  ['a NUL in the query', { query: '1%00' }],
  ['a line feed in the query', { query: '1%0Aevent:%20x' }],
  ['a control character in the query', { query: '%01' }],
]

describe.each([
  ['memory hub', () => Promise.resolve(createHub())],
  ['Redis hub', () => createRedisHub({ url: redis.url, prefix: 'hostile:' })],
])('oversized or malformed Last-Event-ID (%s)', (_, makeHub) => {
  let hub: Hub
  let server: LoopbackServer
  beforeAll(async () => {
    hub = await makeHub()
    server = await serveHub(hub)
    for (let index = 0; index < 3; index++) await hub.publish('news', { data: `n${index}` })
  })
  afterAll(async () => {
    await server?.close()
    await hub?.close()
  })

  it.each(hostileIds)(
    '%s: treated as unknown, answered with the reset signal',
    async (_, given) => {
      const url = `${server.url}/?topic=news${given.query === undefined ? '' : `&lastEventId=${given.query}`}`
      const frame = await withTimeout(
        firstFrame(url, given.header === undefined ? {} : { 'last-event-id': given.header }),
        5_000,
        'the first frame',
      )
      const lines = frame.split('\n')
      expect(lines).toContain('event: reset')
      expect(lines).toContain('data: {"reason":"unknown"}')
      // The reset carries the topic's current id, so the client can resume from there.
      expect(lines.some((line) => /^id: .+/.test(line))).toBe(true)
      expect(frame).not.toContain('passwd')
    },
  )
})

it("a Last-Event-ID beyond node:http's header limit (16 KiB) is refused by node with 431 before any handler", async () => {
  const hub = createHub()
  await using server = await serveHub(hub)
  const response = await fetch(`${server.url}/?topic=news`, {
    headers: { 'last-event-id': 'x'.repeat(65_536) },
  })
  expect(response.status).toBe(431)
  expect(server.requests).toHaveLength(0)
  await hub.close()
})

describe('topic names that would be unsafe as Redis keys', () => {
  it('are escaped into one key each under the prefix, never reaching another key', async () => {
    const prefix = 'topics:'
    const hub = await createRedisHub({ url: redis.url, prefix })
    const client = new Redis(redis.url, { lazyConnect: true })
    await client.connect()
    try {
      // The victim: a key the application keeps beside the hub's.
      await client.set('app:secret', 'do not touch')
      const topics = [
        'news',
        'news*',
        'news:*',
        '*',
        '?',
        '[a-z]',
        '{news}',
        'a/b',
        'a%2Fb',
        '../app:secret',
        '\\app:secret',
        'app:secret',
        ' space ',
        '🙂',
        'x'.repeat(1024),
      ]
      const before = await client.dbsize()
      for (const topic of topics) await hub.publish(topic, { data: topic })
      const keys = await client.keys('topics:*')
      expect(keys).toHaveLength(topics.length)
      for (const key of keys) {
        expect(key.startsWith(prefix)).toBe(true)
        // Percent-encoded: no brace (a cluster hash tag), slash, colon, space, control or non-ASCII
        // byte follows the prefix. `*` and `?` stay literal characters of a key: the hub never
        // uses a key as a pattern (no KEYS, SCAN MATCH or PSUBSCRIBE).
        expect(key.slice(prefix.length)).toMatch(/^[A-Za-z0-9%._~!'()*-]+$/)
      }
      expect(await client.get('app:secret')).toBe('do not touch')
      expect(await client.type('app:secret')).toBe('string')
      // Nothing else was created or touched: one new key per topic, all of them under the prefix.
      expect(await client.dbsize()).toBe(before + topics.length)
    } finally {
      client.disconnect()
      await hub.close()
    }
  })

  it('with control characters, empty or over 1 KiB: refused with a TypeError before Redis sees them', async () => {
    const hub = await createRedisHub({ url: redis.url, prefix: 'refused:' })
    try {
      for (const topic of ['', 'a\r\nDEL x', 'a\0b', '\u007f', 'x'.repeat(1025)]) {
        await expect(hub.publish(topic, { data: 'x' })).rejects.toThrow(TypeError)
        expect(() => hub.subscribe(topic)).toThrow(TypeError)
      }
    } finally {
      await hub.close()
    }
  })
})
