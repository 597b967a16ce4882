import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** What each workload hands back to `run.ts`, which turns it into BENCHMARKS.md. */
export interface Check {
  /** The claim as the issue words it, e.g. "createParser >= 2x eventsource-parser (tokens, 64 KiB)". */
  claim: string
  /** The measured figure, e.g. "2.41x (2.30-2.55)". */
  measured: string
  /** `undefined` when our side is not there yet (the package has not landed). */
  pass: boolean | undefined
}

export interface Section {
  title: string
  /** How it was measured, written above the tables. */
  method: string
  /** Markdown blocks: tables and notes. */
  blocks: string[]
  checks: Check[]
  /** Contenders without figures and why (the smoke test asserts on these). */
  notMeasured: { name: string; reason: string }[]
}

/** How big each workload runs. `smoke` is for the test script: tiny, just proves every path works. */
export type Scale = 'full' | 'quick' | 'smoke'

export interface BenchOptions {
  scale: Scale
  /** Prints progress lines. */
  log: (line: string) => void
}

/** Picks a size by scale. */
export function bySize<T>(scale: Scale, sizes: { full: T; quick: T; smoke: T }): T {
  return sizes[scale]
}

/** Bounds any promise: a hung child or socket becomes a labelled error, never a hung bench. */
export function withTimeout<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${label}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/**
 * Formats a generated Markdown file with the repo's Biome (which aligns table columns), so the
 * files the bench writes pass `biome ci` like every hand-written one. Skipped if Biome is missing.
 */
export function formatMarkdown(path: string): void {
  const biome = fileURLToPath(
    new URL('../../node_modules/@biomejs/biome/bin/biome', import.meta.url),
  )
  if (!existsSync(biome)) return
  // Through stdin, named as a file of the repository: Biome refuses to format a path outside it
  // (`--out=/tmp/report.md`), and the repository's settings apply either way.
  const formatted = execFileSync(
    process.execPath,
    [biome, 'format', '--stdin-file-path=BENCHMARKS.md'],
    {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      input: readFileSync(path, 'utf8'),
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'ignore'],
    },
  )
  writeFileSync(path, formatted)
}
