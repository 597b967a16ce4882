/**
 * One scheduler for the heartbeats of every stream in the process. A timer per stream would cost
 * a timer object and a closure per idle connection; here one timer serves them all (but on
 * Workers, see `perStream`).
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
 * stores one in a field keeps it inline instead of in a 16-byte heap number (for 12 days).
 * @internal
 */
export function clock(): number {
  const elapsed = Date.now() - epoch
  // A difference of two doubles is a double to V8 even when it is whole, and a field that once
  // held a double boxes every later value; `| 0` makes it a small integer (31 bits, so also with
  // pointer compression).
  return elapsed <= 0x3fffffff ? elapsed | 0 : elapsed
}

const staleAfter = 60_000

/**
 * A set of streams and the one timer that serves them: armed only while some stream is live, it
 * fires at the earliest moment a stream could be due and checks them all.
 */
class Scheduler {
  readonly targets = new Set<HeartbeatTarget>()
  timer: ReturnType<typeof setTimeout> | undefined = undefined
  private timerDueAt = Number.POSITIVE_INFINITY
  private readonly onTimer = (): void => this.tick()

  add(target: HeartbeatTarget): void {
    this.targets.add(target)
    this.schedule(target.lastWriteAt + target.heartbeatInterval)
  }

  remove(target: HeartbeatTarget): void {
    if (!this.targets.delete(target) || this.targets.size > 0) return
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.timerDueAt = Number.POSITIVE_INFINITY
  }

  schedule(dueAt: number): void {
    if (this.targets.size === 0) return
    // A timer long overdue is presumed dead (a test swapped fake timers for real ones under it), so
    // it is replaced rather than trusted; a live but late one is cleared first, never doubled.
    const now = clock()
    if (dueAt >= this.timerDueAt) {
      if (now <= this.timerDueAt + staleAfter) return
      dueAt = now
    }
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timerDueAt = dueAt
    this.timer = setTimeout(this.onTimer, Math.max(0, dueAt - now))
    // Heartbeats alone must not keep a process alive (Node, Bun, Deno have unref; browsers do not).
    ;(this.timer as { unref?: () => void }).unref?.()
  }

  private tick(): void {
    this.timer = undefined
    this.timerDueAt = Number.POSITIVE_INFINITY
    const now = clock()
    let next = Number.POSITIVE_INFINITY
    for (const target of this.targets) {
      let dueAt = target.lastWriteAt + target.heartbeatInterval
      if (dueAt <= now) {
        target.heartbeat()
        dueAt = target.lastWriteAt + target.heartbeatInterval
        // A target that wrote nothing (its consumer is full, or it closed) must not re-arm the
        // timer at once; a full one calls scheduleHeartbeat when it has room again.
        if (dueAt <= now) continue
      }
      if (dueAt < next) next = dueAt
    }
    if (next !== Number.POSITIVE_INFINITY) this.schedule(next)
  }
}

const shared = new Scheduler()

/**
 * Workers bind a timer to the request that set it and drop it when that request ends, so one
 * shared timer would stop every other stream's heartbeats there: each stream gets its own.
 */
const perStream: Map<HeartbeatTarget, Scheduler> | undefined =
  (globalThis as { navigator?: { userAgent?: unknown } }).navigator?.userAgent ===
  'Cloudflare-Workers'
    ? new Map()
    : undefined

/** Starts sending heartbeats for `target`. @internal */
export function addHeartbeat(target: HeartbeatTarget): void {
  let scheduler = shared
  if (perStream !== undefined) {
    scheduler = new Scheduler()
    perStream.set(target, scheduler)
  }
  scheduler.add(target)
}

/** Stops sending heartbeats for `target`; a timer stops with its last target. @internal */
export function removeHeartbeat(target: HeartbeatTarget): void {
  ;(perStream?.get(target) ?? shared).remove(target)
  perStream?.delete(target)
}

/**
 * Makes sure `target`'s timer fires no later than `dueAt`. Writes only move a stream's due time
 * later, so they need no call here; a stream whose consumer had been full calls it when it gets room.
 * @internal
 */
export function scheduleHeartbeat(target: HeartbeatTarget, dueAt: number): void {
  ;(perStream?.get(target) ?? shared).schedule(dueAt)
}

/**
 * How many open streams of this process have a heartbeat, and whether a heartbeat timer is armed.
 * Meant for leak tests: after every stream has ended, both are zero/false.
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
  let streams = shared.targets.size
  let timerArmed = shared.timer !== undefined
  for (const scheduler of perStream?.values() ?? []) {
    streams += scheduler.targets.size
    timerArmed ||= scheduler.timer !== undefined
  }
  return { streams, timerArmed }
}
