import { describe, expect, it } from 'vitest'
import { backoffDelay, maxTimerMs, parseRetryAfter } from '../src/_backoff.ts'

describe('backoffDelay', () => {
  it('doubles the ceiling from the base per attempt and caps it before the jitter', () => {
    const top = () => 0.999_999
    expect(
      [1, 2, 3, 4, 5, 6, 10, 60].map((attempt) => backoffDelay(attempt, 1000, 30_000, top)),
    ).toEqual([999, 1999, 3999, 7999, 15_999, 29_999, 29_999, 29_999])
  })

  it('applies full jitter after the cap: anywhere from 0 to the capped ceiling', () => {
    expect(backoffDelay(50, 1000, 30_000, () => 0)).toBe(0)
    expect(backoffDelay(50, 1000, 30_000, () => 0.5)).toBe(15_000)
    const delays = Array.from({ length: 2000 }, () => backoffDelay(40, 1000, 30_000, Math.random))
    expect(Math.min(...delays)).toBeLessThan(3000)
    expect(Math.max(...delays)).toBeGreaterThan(27_000)
    expect(Math.max(...delays)).toBeLessThan(30_000)
  })
})

describe('backoffDelay with retry: 0', () => {
  it('reconnects at once the first time, then grows from the floor so failures cannot spin', () => {
    const top = () => 0.999_999
    expect([1, 2, 3, 4, 12].map((attempt) => backoffDelay(attempt, 0, 30_000, top, 100))).toEqual([
      0, 199, 399, 799, 29_999,
    ])
    // Without a floor (a caller who set retryMs: 0 asked for it), the base stays as it is.
    expect(backoffDelay(5, 0, 30_000, top)).toBe(0)
  })
})

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates, and ignores junk', () => {
    const now = Date.parse('Tue, 24 Nov 2026 10:00:00 GMT')
    expect(parseRetryAfter('120', now)).toBe(120_000)
    expect(parseRetryAfter(' 0 ', now)).toBe(0)
    expect(parseRetryAfter('Tue, 24 Nov 2026 10:00:30 GMT', now)).toBe(30_000)
    expect(parseRetryAfter('Tue, 24 Nov 2026 09:00:00 GMT', now)).toBe(0)
    expect(parseRetryAfter('soon', now)).toBeUndefined()
    expect(parseRetryAfter(null, now)).toBeUndefined()
  })
})

describe('delays past the longest timer', () => {
  it('never exceed 2 ** 31 - 1 ms, which setTimeout would fire at once', () => {
    const top = () => 0.999_999
    expect(backoffDelay(1, 9_999_999_999, 9_999_999_999, top)).toBeLessThanOrEqual(maxTimerMs)
    expect(backoffDelay(40, 1000, Infinity, top)).toBeLessThanOrEqual(maxTimerMs)
    expect(parseRetryAfter('2592000', 0)).toBe(maxTimerMs)
    expect(parseRetryAfter('Tue, 24 Nov 2099 10:00:00 GMT', 0)).toBe(maxTimerMs)
  })

  it('stay numbers after thousands of attempts from a base of 0', () => {
    expect(backoffDelay(5000, 0, 30_000, () => 0.5)).toBe(0)
    expect(backoffDelay(5000, 0, 30_000, () => 0.5, 100)).toBe(15_000)
  })
})

describe('parseRetryAfter with values Date.parse would take for past dates', () => {
  it('reads them as absent', () => {
    for (const value of ['1.5', '-1', '+5', '1 2', '12abc']) {
      expect(parseRetryAfter(value, Date.now())).toBeUndefined()
    }
  })
})
