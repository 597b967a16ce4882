import { fileURLToPath } from 'node:url'
import { createRedisHub } from '@ssekit/redis'
import {
  type ChildMessage,
  type NodeChild,
  type RedisServer,
  startNodeChild,
  startRedisServer,
} from '@ssekit/test-support'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { take } from '../../core/test/_hub-suite.ts'

interface Message extends ChildMessage {
  type: 'ready' | 'event' | 'published' | 'done'
  id?: string
  data?: string | null
}

const childPath = fileURLToPath(new URL('./_child-hub.ts', import.meta.url))
const children: NodeChild<Message>[] = []
let server: RedisServer

function startChild(env: Record<string, string>): NodeChild<Message> {
  const child = startNodeChild<Message>(childPath, {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { REDIS_URL: server.url, PREFIX: 'processes:', ...env },
  })
  children.push(child)
  return child
}

/** Resolves once `count` messages of `type` arrived. */
function waitFor(child: NodeChild<Message>, type: Message['type'], count: number, label: string) {
  return child.until(
    (messages) => {
      const matching = messages.filter((message) => message.type === type)
      return matching.length >= count ? matching : undefined
    },
    20_000,
    label,
  )
}

beforeAll(async () => {
  server = await startRedisServer({ streamNodeMaxEntries: 4 })
})
afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => child.kill()))
})
afterAll(async () => {
  await server?.stop()
})

describe('several Node processes behind one Redis', () => {
  it('fans an event published in one process out to subscribers in all three', async () => {
    const publisher = startChild({ TOPIC: 'fan-out', TAKE: '20', PUBLISH: '20' })
    const listener = startChild({ TOPIC: 'fan-out', TAKE: '20' })
    const hub = await createRedisHub({ url: server.url, prefix: 'processes:' })
    try {
      const local = hub.subscribe('fan-out')
      await take(local, 1, 'local head')
      await waitFor(publisher, 'ready', 1, 'publisher ready')
      await waitFor(listener, 'ready', 1, 'listener ready')
      publisher.process.stdin?.write('go\n')
      const published = (await waitFor(publisher, 'published', 20, 'published')).map(
        (message) => message.id,
      )
      const inParent = (await take(local, 20, 'parent receives')).map((event) => event.id)
      const ofChild = async (child: NodeChild<Message>, label: string) => {
        await waitFor(child, 'done', 1, label)
        return child.messages
          .filter((message) => message.type === 'event' && message.data !== null)
          .map((message) => message.id)
      }
      expect(new Set(published).size).toBe(20)
      expect(inParent).toEqual(published)
      expect(await ofChild(publisher, 'publisher done')).toEqual(published)
      expect(await ofChild(listener, 'listener done')).toEqual(published)
    } finally {
      await hub.close()
    }
  })

  it('lets a client that drops on one process resume on another with every event exactly once', async () => {
    const hub = await createRedisHub({ url: server.url, prefix: 'processes:' })
    try {
      const ids: string[] = []
      for (let index = 1; index <= 5; index++)
        ids.push(await hub.publish('resume', { data: String(index) }))
      // The "client" reads 3 events on process A, then drops.
      const first = startChild({ TOPIC: 'resume', TAKE: '3', LAST_EVENT_ID: ids[0] as string })
      const seen = (await waitFor(first, 'event', 3, 'first process events')).map(
        (message) => message.id,
      )
      await waitFor(first, 'done', 1, 'first process done')
      for (let index = 6; index <= 8; index++)
        ids.push(await hub.publish('resume', { data: String(index) }))
      // It reconnects to process B with its Last-Event-ID.
      const second = startChild({ TOPIC: 'resume', TAKE: '4', LAST_EVENT_ID: seen[2] as string })
      const rest = (await waitFor(second, 'event', 4, 'second process events')).map(
        (message) => message.id,
      )
      expect([ids[0], ...seen, ...rest]).toEqual(ids)
    } finally {
      await hub.close()
    }
  })
})
