import { createEncodedEvent, type EventSourceContext, type SseEvent } from '@ssekit/core'

/** One price change, the `data` of a `price` event. */
export interface Quote {
  symbol: string
  price: number
  /** The change from the previous price. */
  change: number
  /** When it changed (ms since the epoch). */
  at: number
}

/** Why a `reset` event was sent instead of a replay. */
export type ResetReason = 'unknown-id' | 'too-old' | 'fell-behind'

/** Options of {@link createTicker}. */
export interface TickerOptions {
  /** The symbols quoted. @defaultValue `['ACME', 'GLOBEX', 'INITECH', 'UMBRELLA']` */
  symbols?: readonly string[] | undefined
  /** Milliseconds between ticks; `false` ticks only when `tick()` is called (tests). @defaultValue 1000 */
  intervalMs?: number | false | undefined
  /** How many price events are kept for clients that reconnect. @defaultValue 200 */
  historySize?: number | undefined
}

/** A price feed with a bounded history that any number of event streams read from. */
export interface Ticker {
  /** Moves every price once and publishes one `price` event per symbol. */
  tick(): void
  /**
   * The events for one client, from where its `lastEventId` left off: a replay of what it missed,
   * then live prices. Usable directly as a `sendEventStream` source.
   */
  subscribe(context: EventSourceContext): AsyncIterable<SseEvent>
  /** Stops the timer and wakes every waiting subscriber. */
  stop(): void
}

interface HistoryEntry {
  sequence: number
  event: SseEvent
}

const defaultSymbols = ['ACME', 'GLOBEX', 'INITECH', 'UMBRELLA'] as const

/**
 * Starts a simulated price feed. Event ids are `<epoch>-<sequence>`: the epoch changes with every
 * process, so an id from before a restart is recognised as unknown instead of being mistaken for
 * one of the new sequence numbers.
 *
 * @example
 * ```ts
 * const ticker = createTicker({ intervalMs: 500 })
 * sendEventStream(request, response, (context) => ticker.subscribe(context))
 * ```
 */
export function createTicker(options: TickerOptions = {}): Ticker {
  const symbols = options.symbols ?? defaultSymbols
  const historySize = options.historySize ?? 200
  const intervalMs = options.intervalMs ?? 1_000
  if (!(Number.isSafeInteger(historySize) && historySize > 0)) {
    throw new TypeError(`historySize must be a positive whole number; got ${String(historySize)}`)
  }
  const epoch = Date.now().toString(36)
  const prices = new Map(symbols.map((symbol, index) => [symbol, 100 + index * 25]))
  // Oldest first; never longer than historySize, so memory stays flat however long it runs.
  const history: HistoryEntry[] = []
  let sequence = 0
  let stopped = false
  let ticked = createSignal()

  const idOf = (at: number): string => `${epoch}-${at}`

  const tick = (): void => {
    if (stopped) return
    const at = Date.now()
    for (const [symbol, price] of prices) {
      const next = Math.max(1, Math.round(price * (1 + (Math.random() - 0.5) / 50) * 100) / 100)
      prices.set(symbol, next)
      sequence++
      const quote: Quote = {
        symbol,
        price: next,
        change: Math.round((next - price) * 100) / 100,
        at,
      }
      // Encoded once here, the same bytes go to every subscriber.
      history.push({
        sequence,
        event: createEncodedEvent({ event: 'price', id: idOf(sequence), data: quote }),
      })
      if (history.length > historySize) history.shift()
    }
    const wake = ticked
    ticked = createSignal()
    wake.resolve()
  }

  const snapshot = (): SseEvent => ({
    event: 'snapshot',
    id: idOf(sequence),
    data: { prices: Object.fromEntries(prices), at: Date.now() },
  })

  /** The sequence number to replay after, or why that is impossible. */
  const locate = (lastEventId: string): number | ResetReason => {
    const match = /^([0-9a-z]+)-(\d+)$/.exec(lastEventId)
    if (match === null || match[1] !== epoch) return 'unknown-id'
    const after = Number(match[2])
    if (after > sequence) return 'unknown-id'
    const oldest = history[0]?.sequence ?? sequence + 1
    return after < oldest - 1 ? 'too-old' : after
  }

  const nextTick = (signal: AbortSignal): Promise<void> =>
    new Promise((resolve) => {
      if (signal.aborted || stopped) return resolve()
      const onAbort = () => resolve()
      signal.addEventListener('abort', onAbort, { once: true })
      void ticked.promise.then(() => {
        signal.removeEventListener('abort', onAbort)
        resolve()
      })
    })

  async function* subscribe({ lastEventId, signal }: EventSourceContext): AsyncIterable<SseEvent> {
    let cursor: number
    const resumeAt = lastEventId === undefined ? undefined : locate(lastEventId)
    if (typeof resumeAt === 'number') {
      cursor = resumeAt
    } else {
      if (resumeAt !== undefined) yield { event: 'reset', data: { reason: resumeAt, lastEventId } }
      // The current state, with the current id: a client that has seen no price yet still gets
      // an id to resume from, so it misses nothing across its first reconnect.
      yield snapshot()
      cursor = sequence
    }
    while (!signal.aborted && !stopped) {
      while (cursor < sequence) {
        const oldest = history[0]?.sequence ?? sequence + 1
        const entry = history[cursor + 1 - oldest]
        if (entry === undefined) {
          // This client read slower than prices changed for a whole history: say so, start over.
          yield { event: 'reset', data: { reason: 'fell-behind' satisfies ResetReason } }
          yield snapshot()
          cursor = sequence
          break
        }
        cursor = entry.sequence
        yield entry.event
      }
      await nextTick(signal)
    }
  }

  const timer = intervalMs === false ? undefined : setInterval(tick, intervalMs)

  return {
    tick,
    subscribe,
    stop() {
      stopped = true
      clearInterval(timer)
      ticked.resolve()
    },
  }
}

/** A promise resolved once by the next tick (Promise.withResolvers is not in Node 20). */
function createSignal(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => {}
  const promise = new Promise<void>((done) => {
    resolve = done
  })
  return { promise, resolve }
}
