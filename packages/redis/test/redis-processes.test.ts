import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createRedisHub } from '@ssekit/redis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { take, withTimeout } from '../../core/test/_hub-suite.ts'
import { type RedisServer, startRedisServer } from './_redis-server.ts'

interface Message {
  type: 'ready' | 'event' | 'published' | 'done'
  id?: string
  data?: string | null
}

interface Child {
  process: ChildProcess
  messages: Message[]
  /** Resolves once `count` messages of `type` arrived. */
  waitFor(type: Message['type'], count: number, label: string): Promise<Message[]>
}

const childPath = fileURLToPath(new URL('./_child-hub.ts', import.meta.url))
const children: Child[] = []
let server: RedisServer

function startChild(env: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions', 'source', childPath], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, REDIS_URL: server.url, PREFIX: 'processes:', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  const messages: Message[] = []
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const listeners = new Set<() => void>()
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    messages.push(JSON.parse(line) as Message)
    for (const listener of listeners) listener()
  })
  const handle: Child = {
    process: child,
    messages,
    waitFor(type, count, label) {
      const matching = () => messages.filter((message) => message.type === type)
      return withTimeout(
        new Promise<Message[]>((resolve, reject) => {
          const check = () => {
            if (matching().length >= count) {
              listeners.delete(check)
              resolve(matching())
            }
          }
          child.once('exit', (code) => {
            if (matching().length < count)
              reject(new Error(`${label}: child exited with ${code}\n${stderr}`))
          })
          listeners.add(check)
          check()
        }),
        20_000,
        label,
      )
    },
  }
  children.push(handle)
  return handle
}

beforeAll(async () => {
  server = await startRedisServer()
})
afterEach(() => {
  for (const child of children.splice(0)) {
    if (child.process.exitCode === null) child.process.kill('SIGKILL')
  }
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
      await publisher.waitFor('ready', 1, 'publisher ready')
      await listener.waitFor('ready', 1, 'listener ready')
      publisher.process.stdin?.write('go\n')
      const published = (await publisher.waitFor('published', 20, 'published')).map(
        (message) => message.id,
      )
      const inParent = (await take(local, 20, 'parent receives')).map((event) => event.id)
      const ofChild = async (child: Child, label: string) => {
        await child.waitFor('done', 1, label)
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
      const seen = (await first.waitFor('event', 3, 'first process events')).map(
        (message) => message.id,
      )
      await first.waitFor('done', 1, 'first process done')
      for (let index = 6; index <= 8; index++)
        ids.push(await hub.publish('resume', { data: String(index) }))
      // It reconnects to process B with its Last-Event-ID.
      const second = startChild({ TOPIC: 'resume', TAKE: '4', LAST_EVENT_ID: seen[2] as string })
      const rest = (await second.waitFor('event', 4, 'second process events')).map(
        (message) => message.id,
      )
      expect([ids[0], ...seen, ...rest]).toEqual(ids)
    } finally {
      await hub.close()
    }
  })
})
