/**
 * One scheduler for the heartbeats of every stream in the process. A timer per stream would cost
 * a timer object and a closure per idle connection; here one timer, armed only while some stream
 * is live, fires at the earliest moment a stream could be due and checks them all.
 * @internal
 */

/** What the scheduler needs from a stream. @internal */
export interface HeartbeatTarget {
  /** Milliseconds of silence before a heartbeat. */
  readonly heartbeatInterval: number
  /** When the stream last wrote anything ({@link clock}). */
  readonly lastWriteAt: number
  /** Writes a heartbeat comment, unless the consumer is full. */
  heartbeat(): void
}

const epoch = Date.now()

/**
 * Milliseconds since this module loaded. Small integers, unlike `Date.now()`: a stream that
 * stores one in a field keeps it inline instead of in a 16-byte heap number (for 24 days).
 * @internal
 */
export function clock(): number {
  return Date.now() - epoch
}

const targets = new Set<HeartbeatTarget>()
let timer: ReturnType<typeof setTimeout> | undefined
let timerDueAt = Number.POSITIVE_INFINITY
const staleAfter = 60_000

/** Starts sending heartbeats for `target`. @internal */
export function addHeartbeat(target: HeartbeatTarget): void {
  targets.add(target)
  scheduleHeartbeat(target.lastWriteAt + target.heartbeatInterval)
}

/** Stops sending heartbeats for `target`; the timer stops with the last target. @internal */
export function removeHeartbeat(target: HeartbeatTarget): void {
  if (!targets.delete(target) || targets.size > 0) return
  if (timer !== undefined) clearTimeout(timer)
  timer = undefined
  timerDueAt = Number.POSITIVE_INFINITY
}

/**
 * Makes sure the timer fires no later than `dueAt`. Writes only move a stream's due time later, so
 * they need no call here; a stream whose consumer had been full calls it when it gets room.
 * @internal
 */
export function scheduleHeartbeat(dueAt: number): void {
  if (targets.size === 0) return
  // A timer long overdue is presumed dead (a test swapped fake timers for real ones under it), so
  // it is replaced rather than trusted; a live but late one is cleared first, never doubled.
  const now = clock()
  if (dueAt >= timerDueAt) {
    if (now <= timerDueAt + staleAfter) return
    dueAt = now
  }
  if (timer !== undefined) clearTimeout(timer)
  timerDueAt = dueAt
  timer = setTimeout(tick, Math.max(0, dueAt - now))
  // Heartbeats alone must not keep a process alive (Node, Bun, Deno have unref; browsers do not).
  ;(timer as { unref?: () => void }).unref?.()
}

/**
 * How many open streams of this process have a heartbeat, and whether the one shared heartbeat
 * timer is armed. Meant for leak tests: after every stream has ended, both are zero/false.
 *
 * @example
 * ```ts
 * import { heartbeatStats } from '@ssekit/core/adapter'
 *
 * // after closing every connection:
 * assert.deepEqual(heartbeatStats(), { streams: 0, timerArmed: false })
 * ```
 * @public
 */
export function heartbeatStats(): { streams: number; timerArmed: boolean } {
  return { streams: targets.size, timerArmed: timer !== undefined }
}

function tick(): void {
  timer = undefined
  timerDueAt = Number.POSITIVE_INFINITY
  const now = clock()
  let next = Number.POSITIVE_INFINITY
  for (const target of targets) {
    let dueAt = target.lastWriteAt + target.heartbeatInterval
    if (dueAt <= now) {
      target.heartbeat()
      dueAt = target.lastWriteAt + target.heartbeatInterval
      // A target that wrote nothing (its consumer is full, or it closed) must not re-arm the timer
      // at once; a full one calls scheduleHeartbeat when it has room again.
      if (dueAt <= now) continue
    }
    if (dueAt < next) next = dueAt
  }
  if (next !== Number.POSITIVE_INFINITY) scheduleHeartbeat(next)
}
