import type { SseEvent } from '@ssekit/core'
import { describe, expect, it } from 'vitest'
import { marketSource, symbols, tickAt } from '../src/market.ts'

const tickMs = 20

/** The first `count` events of a market stream that resumes after `lastEventId`. */
async function take(lastEventId: string | undefined, count: number): Promise<SseEvent[]> {
  const controller = new AbortController()
  const events: SseEvent[] = []
  const timer = setTimeout(() => controller.abort(), 5_000)
  try {
    for await (const event of marketSource({ tickMs, maxReplay: 50 })({
      signal: controller.signal,
      lastEventId,
    })) {
      events.push(event)
      if (events.length === count) break
    }
  } finally {
    clearTimeout(timer)
  }
  expect(events).toHaveLength(count)
  return events
}

const now = () => Math.floor(Date.now() / tickMs)

describe('the market', () => {
  it('starts at the current tick, then one tick per interval, ids consecutive', async () => {
    const before = now()
    const events = await take(undefined, 4)
    const ids = events.map((event) => Number(event.id))
    expect(ids[0]).toBeGreaterThanOrEqual(before)
    expect(ids[0]).toBeLessThanOrEqual(now())
    expect(ids).toEqual(ids.map((_, index) => (ids[0] as number) + index))
    expect(events[0]).toEqual({
      event: 'tick',
      id: String(ids[0]),
      data: tickAt(ids[0] as number, tickMs),
    })
  })

  it('replays every tick after Last-Event-ID, so a reconnect misses nothing', async () => {
    const last = now() - 10
    const events = await take(String(last), 12)
    expect(events.map((event) => Number(event.id))).toEqual(
      Array.from({ length: 12 }, (_, index) => last + 1 + index),
    )
  })

  it('sends reset instead of a replay for an id that is unknown, in the future or too old', async () => {
    for (const [lastEventId, reason] of [
      ['not-a-tick', 'unknown'],
      [String(now() + 1000), 'unknown'],
      [String(now() - 51), 'evicted'],
    ] as const) {
      const [reset, first] = await take(lastEventId, 2)
      expect(reset).toEqual({ event: 'reset', data: { reason } })
      expect(Number(first?.id)).toBeGreaterThanOrEqual(now() - 1)
    }
  })

  it('prices are a pure function of the tick, near each symbol base', () => {
    expect(tickAt(123_456, 500)).toEqual(tickAt(123_456, 500))
    expect(tickAt(123_456, 500)).not.toEqual(tickAt(123_457, 500))
    for (const [symbol, price] of Object.entries(tickAt(987_654, 500).prices)) {
      const base = symbols[symbol] as number
      expect(Math.abs(price - base) / base).toBeLessThan(0.06)
    }
  })
})
