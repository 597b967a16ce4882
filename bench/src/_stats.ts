/** Order statistics over a handful of rounds: the bench reports medians with their min and max. */
export interface Summary {
  median: number
  min: number
  max: number
  n: number
}

export function summarize(values: readonly number[]): Summary {
  const finite = values.filter((value) => Number.isFinite(value))
  if (finite.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 }
  const sorted = [...finite].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  const median =
    sorted.length % 2 === 1
      ? (sorted[middle] as number)
      : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
  return {
    median,
    min: sorted[0] as number,
    max: sorted[sorted.length - 1] as number,
    n: sorted.length,
  }
}

/** The p-th percentile (0-100) by nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank] as number
}

/** Formats a number with a few significant digits, keeping big numbers whole. */
export function formatNumber(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return 'n/a'
  const magnitude = Math.abs(value)
  if (magnitude >= 10 ** digits) return Math.round(value).toLocaleString('en-US')
  if (magnitude === 0) return '0'
  return Number(value.toPrecision(digits)).toString()
}

/** `median (min-max)` for a table cell. */
export function formatSummary(summary: Summary, unit = '', digits = 3): string {
  if (summary.n === 0) return 'n/a'
  const median = formatNumber(summary.median, digits)
  if (summary.n === 1) return `${median}${unit}`
  return `${median}${unit} (${formatNumber(summary.min, digits)}-${formatNumber(summary.max, digits)})`
}

/** `2.41x (2.30-2.55)`: a ratio median with its spread across rounds. */
export function formatRatio(summary: Summary): string {
  if (summary.n === 0) return 'n/a'
  const value = (x: number) => x.toFixed(x >= 10 ? 1 : 2)
  if (summary.n === 1) return `${value(summary.median)}x`
  return `${value(summary.median)}x (${value(summary.min)}-${value(summary.max)})`
}

/** A Markdown table. */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const escapeCell = (cell: string) => cell.replaceAll('|', '\\|')
  const lines = [
    `| ${header.map(escapeCell).join(' | ')} |`,
    `| ${header.map((_, index) => (index === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(escapeCell).join(' | ')} |`),
  ]
  return lines.join('\n')
}

/** A small, seeded PRNG (mulberry32) so random chunkings are the same in every run. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
