import type { SseEvent } from './types.ts'

/**
 * An internal fast path between a source that holds its events itself (a hub subscription) and
 * the pump. Instead of one pending `next()` promise per idle stream, the pump pulls ready events
 * synchronously and leaves itself as the reader to wake; a publish to thousands of subscribers
 * then writes to each stream within the publish call, with no promise or microtask per subscriber.
 * A source without this method is read through `next()` as before.
 *
 * `Symbol.for`, so a subscription made by one copy of `@ssekit/core` is understood by another.
 * @internal
 */
export const pullKey: unique symbol = Symbol.for('ssekit.pull') as typeof pullKey

/** Who waits on a {@link PullSource}. @internal */
export interface PullReader {
  /**
   * Something became ready (an event, the end, a failure): pull again. Called synchronously by
   * the source, at most once per `undefined` it returned; must not throw.
   */
  wake(): void
}

/** A source that supports the fast path. @internal */
export interface PullSource {
  /**
   * The next ready event; `null` when the source is done; `undefined` when nothing is ready yet,
   * in which case `reader.wake()` is called once something is. Throws the source's failure.
   */
  [pullKey](reader: PullReader): SseEvent | null | undefined
}

/** Whether `iterator` offers the fast path. @internal */
export function isPullSource(iterator: unknown): iterator is PullSource {
  return typeof (iterator as Partial<PullSource>)[pullKey] === 'function'
}
