import type { EventSourceContext, SseEvent } from '@ssekit/core'
import { sleep } from './_sleep.ts'
import type { MarketTick, ResetData } from './protocol.ts'

/** The symbols on the dashboard, with the price each one swings around. */
export const symbols: Readonly<Record<string, number>> = Object.freeze({
  ACME: 182.4,
  GLOBEX: 64.1,
  INITECH: 23.75,
  UMBRELLA: 311.9,
  HOOLI: 97.3,
  STARK: 412.6,
})

export interface MarketOptions {
  /** Milliseconds between ticks. @defaultValue 500 */
  tickMs?: number | undefined
  /** Most missed ticks replayed to a reconnecting client; older cursors get a `reset`. @defaultValue 240 */
  maxReplay?: number | undefined
}

/**
 * A market whose price at tick `n` is a pure function of `n` (tick `n` happens at `n * tickMs`
 * on the wall clock). So every instance of the demo, and the same instance after a restart,
 * agrees on every tick: a client that reconnects with `Last-Event-ID: n` gets exactly the ticks
 * after `n`, with no history kept anywhere.
 *
 * @example
 * ```ts
 * sendEventStream(request, response, marketSource({ tickMs: 500 }))
 * ```
 */
export function marketSource(options: MarketOptions = {}) {
  const tickMs = options.tickMs ?? 500
  const maxReplay = options.maxReplay ?? 240

  return async function* market({
    signal,
    lastEventId,
  }: EventSourceContext): AsyncGenerator<SseEvent> {
    const now = currentTick(tickMs)
    let next = now
    if (lastEventId !== undefined) {
      const last = /^\d{1,15}$/.test(lastEventId) ? Number(lastEventId) : Number.NaN
      if (Number.isNaN(last) || last > now) {
        yield reset('unknown')
      } else if (now - last > maxReplay) {
        yield reset('evicted')
      } else {
        next = last + 1
      }
    }
    while (!signal.aborted) {
      if (next > currentTick(tickMs)) {
        await sleep(next * tickMs - Date.now(), signal)
        continue
      }
      yield { event: 'tick', id: String(next), data: tickAt(next, tickMs) }
      next++
    }
  }
}

/** The tick at `n`. */
export function tickAt(n: number, tickMs: number): MarketTick {
  const prices: Record<string, number> = {}
  let index = 0
  for (const [symbol, base] of Object.entries(symbols)) {
    index++
    const swing =
      0.035 * Math.sin(n / (41 + index * 7) + index) +
      0.012 * Math.sin(n / (9.7 + index) + index * 2.1) +
      0.004 * noise(n, index)
    prices[symbol] = Math.round(base * (1 + swing) * 100) / 100
  }
  return { n, at: new Date(n * tickMs).toISOString(), prices }
}

function currentTick(tickMs: number): number {
  return Math.floor(Date.now() / tickMs)
}

function reset(reason: ResetData['reason']): SseEvent {
  return { event: 'reset', data: { reason } satisfies ResetData }
}

/** A deterministic value in [-1, 1) for (n, salt): the jitter of a real quote. */
function noise(n: number, salt: number): number {
  let hash = Math.imul(n ^ (salt * 0x9e3779b9), 0x85ebca6b)
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35)
  hash ^= hash >>> 16
  return (hash >>> 0) / 2 ** 31 - 1
}
