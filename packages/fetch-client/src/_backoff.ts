/**
 * @internal Exponential backoff with full jitter applied after the cap: the ceiling doubles from
 * `baseMs` per attempt up to `maxMs`, and the delay is uniform in [0, ceiling]. Jitter after the cap
 * keeps a fleet that hit the cap together from reconnecting in step. The first attempt keeps
 * `baseMs` even when it is 0; later ones grow from at least `minBaseMs`, so a server that sends
 * `retry: 0` and then keeps failing cannot make a client reconnect in a tight loop.
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number,
  minBaseMs = 0,
): number {
  // (The exponent stops growing long after the cap is reached: 0 * 2 ** 1024 would be NaN.)
  const ceiling =
    attempt > 1 ? Math.max(baseMs, minBaseMs) * 2 ** Math.min(attempt - 1, 64) : baseMs
  return Math.floor(random() * Math.min(maxMs, ceiling, maxTimerMs))
}

/**
 * @internal The least base that consecutive failed attempts grow from when the server's `retry:`
 * is below it, in milliseconds (unless the client's own `retryMs` is lower still).
 */
export const minGrowthMs = 100

/**
 * @internal The longest delay a timer can wait: `setTimeout` fires at once (Node) or after 1 ms for
 * anything longer, so a server's `retry: 9999999999` would otherwise become a tight loop.
 */
export const maxTimerMs = 2 ** 31 - 1

/**
 * @internal Milliseconds a `Retry-After` header asks for (delta-seconds or an HTTP date), or
 * `undefined` when it is absent or unreadable.
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed) * 1000, maxTimerMs)
  // Every HTTP-date form starts with the day's name; `Date.parse` would also take "1.5" or "-1"
  // for dates in the past.
  if (!/^[a-z]{3}/i.test(trimmed)) return undefined
  const date = Date.parse(trimmed)
  return Number.isNaN(date) ? undefined : Math.min(Math.max(0, date - now), maxTimerMs)
}
