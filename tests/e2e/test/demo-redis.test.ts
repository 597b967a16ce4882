import { randomUUID } from 'node:crypto'
import { fetchEventStream } from '@ssekit/fetch-client'
import { type RedisServer, startRedisServer, withTimeout } from '@ssekit/test-support'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { answerFor } from '../../../examples/demo/src/chat.ts'
import type {
  ChatDone,
  ChatStart,
  ChatToken,
  ResetData,
} from '../../../examples/demo/src/protocol.ts'
import { type DemoProcess, startDemo } from '../src/demo-process.ts'

type ChatEvents = { start: ChatStart; token: ChatToken; done: ChatDone; reset: ResetData }

let redis: RedisServer
let first: DemoProcess
let second: DemoProcess

beforeAll(async () => {
  redis = await startRedisServer({ durable: false })
  ;[first, second] = await Promise.all([
    startDemo({ REDIS_URL: redis.url, DEMO_TOKEN_MS: '30' }),
    startDemo({ REDIS_URL: redis.url, DEMO_TOKEN_MS: '30' }),
  ])
})

afterAll(async () => {
  await Promise.all([first?.stop(), second?.stop()])
  await redis?.stop()
})

describe('two demo instances behind one Redis', () => {
  it('an answer started by a POST on one instance resumes on the other, nothing missing or repeated', async () => {
    const conversationId = `e2e-${randomUUID()}`
    const prompt = 'Can another server finish my answer?'
    const streamOnSecond = `${second.baseURL}/api/chat/${conversationId}/stream`
    const client = fetchEventStream<ChatEvents>(`${first.baseURL}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ conversationId, prompt }),
      parse: 'json',
      retryMs: 10,
      resume: () => streamOnSecond,
    })
    const indices: number[] = []
    let text = ''
    let done = false
    await withTimeout(
      (async () => {
        for await (const event of client) {
          if (event.type === 'token') {
            indices.push(event.data.index)
            text += event.data.text
            // Cut the first instance's connection mid-answer: a real TCP close.
            if (indices.length === 8) {
              await fetch(`${first.baseURL}/api/chat/${conversationId}/drop`, { method: 'POST' })
            }
          }
          if (event.type === 'reset') throw new Error('the second instance could not resume')
          if (event.type === 'done') {
            done = true
            break
          }
        }
      })(),
      30_000,
      'the answer completes through the second instance',
    )

    expect(done).toBe(true)
    expect(text).toBe(answerFor(prompt))
    expect(indices).toEqual(indices.map((_, index) => index))
    const resume = await second.waitForLog(
      (line) => line.msg === 'chat resume' && line.conversationId === conversationId,
      'the second instance serves the resume',
    )
    expect(resume.lastEventId).toMatch(/^\d+-\d+$/)
    const replay = await second.waitForLog(
      (line) => line.msg === 'hub replay' && line.topic === `chat:${conversationId}`,
      'the second instance replays from Redis',
    )
    expect(replay['hit']).toBe(true)
    const starts = (demo: DemoProcess) =>
      demo.logs.filter(
        (line) => line.msg === 'chat start' && line.conversationId === conversationId,
      )
    expect(starts(first)).toHaveLength(1)
    expect(starts(second)).toHaveLength(0)
  })
})
