import { randomUUID } from 'node:crypto'
import { fetchEventStream } from '@ssekit/fetch-client'
import { withTimeout } from '@ssekit/test-support'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DemoProcess, startDemo } from '../src/demo-process.ts'

let demo: DemoProcess

beforeAll(async () => {
  demo = await startDemo({ DEMO_TOKEN_MS: '5' })
})

afterAll(async () => {
  await demo?.stop()
})

const post = (body: string, type = 'application/json') =>
  fetch(`${demo.baseURL}/api/chat`, { method: 'POST', headers: { 'content-type': type }, body })

describe('the demo API refuses bad input with a clear status', () => {
  it('413 for a body over 8 KiB, before reading it all', async () => {
    const response = await post(JSON.stringify({ prompt: 'x'.repeat(20_000) }))
    expect(response.status).toBe(413)
    expect(await response.json()).toEqual({ error: 'the body is limited to 8192 bytes' })
  })

  it('415 for a body that is not JSON, 400 for broken JSON or a bad prompt or id', async () => {
    expect((await post('prompt=hi', 'application/x-www-form-urlencoded')).status).toBe(415)
    expect((await post('{"prompt":')).status).toBe(400)
    expect((await post(JSON.stringify({ prompt: '' }))).status).toBe(400)
    expect((await post(JSON.stringify({ prompt: 'hi', conversationId: '../x' }))).status).toBe(400)
  })

  it('409 for a second POST of the same conversation: an answer is generated once', async () => {
    const conversationId = randomUUID()
    const body = JSON.stringify({ prompt: 'once', conversationId })
    const first = await post(body)
    expect(first.status).toBe(200)
    expect(first.headers.get('x-conversation-id')).toBe(conversationId)
    const second = await post(body)
    expect(second.status).toBe(409)
    await first.body?.cancel()
  })

  it('a resume with an id the hub never issued gets a reset event and ends', async () => {
    const events = await withTimeout(
      (async () => {
        const seen: string[] = []
        for await (const event of fetchEventStream(
          `${demo.baseURL}/api/chat/${randomUUID()}/stream`,
          { initialLastEventId: 'nonsense-1', reconnect: 'never' },
        )) {
          seen.push(`${event.type} ${event.data}`)
        }
        return seen
      })(),
      10_000,
      'the reset arrives',
    )
    expect(events).toEqual(['reset {"reason":"unknown"}'])
  })

  it('404 for an unknown path, 405 for a wrong method', async () => {
    expect((await fetch(`${demo.baseURL}/nope`)).status).toBe(404)
    expect((await fetch(`${demo.baseURL}/api/chat/${randomUUID()}/drop`)).status).toBe(405)
  })
})

describe('the demo shuts down gracefully', () => {
  it('on SIGTERM, an open stream gets a retry hint and a clean end, and the process exits 0', async () => {
    const stream = fetchEventStream(`${demo.baseURL}/events/market`, { reconnect: 'never' })
    const first = await withTimeout(stream.next(), 10_000, 'the first tick')
    expect(first.value?.type).toBe('tick')
    const rest = (async () => {
      const types: string[] = []
      for await (const event of stream) types.push(event.type)
      return types
    })()
    const logsBefore = demo.logs.length
    expect(await demo.stop()).toBe(0)
    // A clean end of body: the iteration finishes without an error.
    await withTimeout(rest, 10_000, 'the stream ends')
    expect(stream.retryMs).toBeGreaterThanOrEqual(1000)
    expect(stream.retryMs).toBeLessThan(5000)
    const closed = await demo.waitForLog(
      (line) => line.msg === 'stream close' && line.kind === 'market',
      'the server logs the stream close',
      logsBefore,
    )
    expect(closed.reason).toBe('shutdown')
  })
})
