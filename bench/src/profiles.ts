/**
 * For every target the run missed, the profile that shows where the time or memory goes, run in
 * the same `npm run bench` and appended to BENCHMARKS.md: a V8 CPU profile (`profile-cpu.ts`, the
 * same sampling profile `node --cpu-prof` writes) of the hot path behind a missed speed ratio, and
 * a heap-snapshot diff per idle connection (`profile-idle.ts`) behind a missed memory ratio.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { BenchOptions, Section } from './_report.ts'

const built = import.meta.url.endsWith('.js')

function runScript(file: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--expose-gc', fileURLToPath(new URL(file, import.meta.url)), ...args],
      { timeout: 120_000, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        resolve(
          error
            ? `(profile failed: ${String(stderr || error.message)
                .trim()
                .split('\n')
                .at(-1)})`
            : stdout.trim(),
        )
      },
    )
  })
}

export async function profileMisses(
  sections: Section[],
  options: BenchOptions,
): Promise<Section | undefined> {
  if (!built || options.scale === 'smoke') return undefined
  const missed = sections.flatMap((section) =>
    section.checks.filter((check) => check.pass === false),
  )
  const cpuCases = new Set<string>()
  const idleTargets = new Set<string>()
  for (const check of missed) {
    if (check.claim.startsWith('createParser')) {
      cpuCases.add(
        check.claim.includes('random')
          ? 'parse-random'
          : check.claim.includes('multi-line')
            ? 'parse-multiline'
            : 'parse',
      )
    } else if (check.claim.startsWith('parseEventStream')) cpuCases.add('parse-stream')
    else if (check.claim.startsWith('encoder') && check.claim.includes('async generator'))
      cpuCases.add('encode-async')
    else if (check.claim.startsWith('encoder')) cpuCases.add('encode-array')
    else if (check.claim.includes('RSS/conn') || check.claim.includes('heap/conn')) {
      idleTargets.add('plain')
      idleTargets.add(check.claim.startsWith('Hono adapter') ? 'ssekit-hono' : 'ssekit-node')
    }
  }
  if (cpuCases.size === 0 && idleTargets.size === 0) return undefined
  const blocks: string[] = []
  for (const name of cpuCases) {
    options.log(`profile: ${name}`)
    blocks.push(`#### CPU: \`${name}\``, await runScript('profile-cpu.js', [name]))
  }
  // Hono's own streamSSE is profiled beside our Hono adapter, the seed beside either adapter.
  if (idleTargets.has('ssekit-hono')) idleTargets.add('hono-streamSSE')
  for (const target of ['plain', 'ssekit-node', 'ssekit-hono', 'hono-streamSSE']) {
    if (!idleTargets.has(target)) continue
    options.log(`profile: idle heap, ${target}`)
    blocks.push(
      `#### Heap per idle connection: ${target}`,
      await runScript('profile-idle.js', [target, '2000']),
    )
  }
  return {
    title: 'Profiles of the missed targets',
    method:
      'Generated in this run for the targets above marked missed. CPU: our hot path alone for about 3 s under the V8 sampling profiler (the `.cpuprofile` is saved to the temp directory; open it in Chrome DevTools); self time per function, then per source line of our packages (where the optimised code was when sampled, so a sample just after a call returns can land on the next line). Memory: heap snapshots of the server before and after 2 000 more idle streams, the growth per stream grouped by constructor (V8 internal arrays attributed to the object that owns them). Reproduce one with `npm run bench:profile -w @ssekit/bench -- <case>` or `node --expose-gc bench/dist/profile-idle.js <target> 2000` after a build.',
    blocks,
    checks: [],
    notMeasured: [],
  }
}
