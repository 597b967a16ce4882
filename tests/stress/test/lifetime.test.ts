import {
  type CloseReason,
  createEventStream,
  createHub,
  lastEventIdFrom,
  SseError,
} from '@ssekit/core'
import { sendEventStream } from '@ssekit/node'
import { delay, waitFor, withTimeout } from '@ssekit/test-support'
import { afterEach, describe, expect, it } from 'vitest'
import { type Collector, collect } from '../src/_collector.ts'
import { startServer } from '../src/_loopback-server.ts'

const collectors: Collector[] = []
afterEach(() => {
  for (const collector of collectors.splice(0)) collector.close()
})

describe('maximum stream lifetime with jitter', () => {
  it('ends each stream after maxLifetime plus its own jitter; clients resume and miss nothing', async () => {
    const hub = createHub()
    const closes: { reason: CloseReason; durationMs: number }[] = []
    await using server = await startServer((request, response) => {
      const controller = new AbortController()
      response.once('close', () => controller.abort())
      void sendEventStream(
        request,
        response,
        hub.subscribe('feed', { lastEventId: lastEventIdFrom(request), signal: controller.signal }),
        {
          maxLifetime: 300,
          lifetimeJitter: 300,
          heartbeat: false,
          onClose: ({ reason, durationMs }) => closes.push({ reason, durationMs }),
        },
      )
    })
    try {
      for (let index = 0; index < 20; index++) {
        collectors.push(collect(`${server.url}/`, { retryMs: 50, maxRetryMs: 100 }))
      }
      await waitFor(
        () => collectors.every((client) => client.opens >= 1),
        5_000,
        'clients connected',
      )
      const published: string[] = []
      for (let index = 1; index <= 150; index++) {
        await hub.publish('feed', { data: String(index) })
        published.push(String(index))
        await delay(10)
      }
      await waitFor(
        () => collectors.every((client) => client.data.length >= published.length),
        10_000,
        'every client has every event',
      )
      for (const client of collectors) {
        expect(client.data).toEqual(published)
        expect(client.opens).toBeGreaterThanOrEqual(2)
      }
      const ended = closes.filter((close) => close.reason === 'lifetime')
      expect(ended.length).toBeGreaterThanOrEqual(20)
      // Node's timers count from the event loop's cached time, taken when the loop turn began: a
      // turn that opens many streams makes each timer fire that much before a fresh clock says
      // its delay has passed (a millisecond or a few).
      for (const close of ended) expect(close.durationMs).toBeGreaterThanOrEqual(290)
      // Spread by the jitter: streams opened together do not all end together.
      const durations = ended.map((close) => close.durationMs)
      expect(Math.max(...durations) - Math.min(...durations)).toBeGreaterThan(60)
    } finally {
      await hub.close()
    }
  })

  it('ends a Web stream from createEventStream too (Hono, Workers), running the source cleanup', async () => {
    let cleanedUp = false
    let reason: CloseReason | undefined
    const body = createEventStream(
      async function* () {
        try {
          for (;;) {
            yield { data: 'tick' }
            await delay(10)
          }
        } finally {
          cleanedUp = true
        }
      },
      { maxLifetime: 50, lifetimeJitter: 0, onClose: (summary) => (reason = summary.reason) },
    )
    const text = await withTimeout(new Response(body).text(), 5_000, 'the stream ends by itself')
    expect(text).toContain('data: tick')
    expect(reason).toBe('lifetime')
    // An async generator runs its `finally` once its current step settles.
    await waitFor(() => cleanedUp, 2_000, "the source's finally ran")
  })

  it('refuses a lifetime that cannot work with SseError invalid-option', () => {
    for (const options of [
      { maxLifetime: 0 },
      { maxLifetime: -5 },
      { maxLifetime: 1.5 },
      { maxLifetime: 1_000, lifetimeJitter: -1 },
      { lifetimeJitter: 100 },
    ]) {
      let caught: unknown
      try {
        createEventStream([], options)
      } catch (error) {
        caught = error
      }
      expect(SseError.isInstance(caught) && caught.code).toBe('invalid-option')
    }
  })
})
