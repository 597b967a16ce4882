/**
 * @internal Exponential backoff with full jitter applied after the cap: the ceiling doubles from
 * `baseMs` per attempt up to `maxMs`, and the delay is uniform in [0, ceiling]. Jitter after the cap
 * keeps a fleet that hit the cap together from reconnecting in step.
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1))
  return Math.floor(random() * ceiling)
}

/**
 * @internal Milliseconds a `Retry-After` header asks for (delta-seconds or an HTTP date), or
 * `undefined` when it is absent or unreadable.
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const date = Date.parse(trimmed)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}
