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
  /** When the stream last wrote anything (`Date.now()`). */
  readonly lastWriteAt: number
  /** Writes a heartbeat comment, unless the consumer is full. */
  heartbeat(): void
}

const targets = new Set<HeartbeatTarget>()
let timer: ReturnType<typeof setTimeout> | undefined
let timerDueAt = Number.POSITIVE_INFINITY

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
  if (targets.size === 0 || dueAt >= timerDueAt) return
  if (timer !== undefined) clearTimeout(timer)
  timerDueAt = dueAt
  timer = setTimeout(tick, Math.max(0, dueAt - Date.now()))
  // Heartbeats alone must not keep a process alive (Node, Bun, Deno have unref; browsers do not).
  ;(timer as { unref?: () => void }).unref?.()
}

/** The number of streams with a live heartbeat, and whether the timer is armed; for tests. @internal */
export function heartbeatStats(): { streams: number; timerArmed: boolean } {
  return { streams: targets.size, timerArmed: timer !== undefined }
}

function tick(): void {
  timer = undefined
  timerDueAt = Number.POSITIVE_INFINITY
  const now = Date.now()
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
