/**
 * The two sizes of every run: `npm test` uses the short one so CI exercises each scenario in
 * seconds; `npm run test:stress` (`SSEKIT_STRESS=1`) the long one. Every figure in RELIABILITY.md
 * names the size it was measured with.
 */
export const stress = process.env['SSEKIT_STRESS'] === '1'

/** Picks the short or the long value of a parameter. */
export function size<T>(short: T, long: T): T {
  return stress ? long : short
}

/** fast-check's seed: fixed, so a failure replays; override with SSEKIT_SEED to explore. */
export const seed = Number(process.env['SSEKIT_SEED'] ?? '20261124')

/** Prints one measured figure as a single greppable line (`[stress] name: value`). */
export function report(name: string, value: unknown): void {
  console.log(`[stress] ${name}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
}
