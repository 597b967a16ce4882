/**
 * `npm run bench` (from the repo root): runs every workload in one process tree and writes
 * BENCHMARKS.md at the repo root. Flags: `--quick` (smaller sizes, fewer rounds), `--smoke` (tiny
 * sizes, proves every path works; writes nothing unless `--write`), `--only=parse,encode,...`,
 * `--out=<file>`.
 *
 * Method, shared by every workload: competitors run interleaved in the same run for several
 * rounds, and the tables report medians with min and max and per-round ratios against a named
 * reference, never a lone absolute time (this machine is noisy). Every server runs in its own child
 * process on 127.0.0.1; every load loop is bounded in count and in time.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { arch, cpus, loadavg, release, totalmem } from 'node:os'
import type { BenchOptions, Scale, Section } from './_report.ts'
import { errorMessage, formatMarkdown } from './_report.ts'
import { packageVersion } from './_versions.ts'
import { runBundleSize } from './bundle-size.bench.ts'
import { runEncode } from './encode.bench.ts'
import { runFanout } from './fanout.bench.ts'
import { runLoopback } from './loopback.bench.ts'
import { runParse } from './parse.bench.ts'
import { profileMisses } from './profiles.ts'
import { runRedis } from './redis.bench.ts'
import { runSlowConsumer } from './slow-consumer.bench.ts'

const workloads: Record<string, (options: BenchOptions) => Promise<Section>> = {
  parse: runParse,
  encode: runEncode,
  loopback: runLoopback,
  fanout: runFanout,
  slow: runSlowConsumer,
  redis: runRedis,
  bundle: runBundleSize,
}

function parseArguments(argv: readonly string[]) {
  const flag = (name: string) => argv.includes(`--${name}`)
  const value = (name: string) =>
    argv.find((argument) => argument.startsWith(`--${name}=`))?.slice(name.length + 3)
  const scale: Scale = flag('smoke') ? 'smoke' : flag('quick') ? 'quick' : 'full'
  const only = value('only')?.split(',').filter(Boolean)
  const unknown = only?.filter((name) => !(name in workloads)) ?? []
  if (unknown.length > 0) {
    throw new TypeError(
      `Unknown workload ${unknown.join(', ')}: use --only= with ${Object.keys(workloads).join(', ')}`,
    )
  }
  const write = scale !== 'smoke' || flag('write')
  const out = value('out') ?? new URL('../../BENCHMARKS.md', import.meta.url).pathname
  return { scale, only: only ?? Object.keys(workloads), write, out }
}

/** Which ssekit was measured: the commit, and whether the work tree had changes on top. */
function revision(): string {
  try {
    const options = { encoding: 'utf8', cwd: new URL('..', import.meta.url).pathname } as const
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], options).trim()
    const dirty = execFileSync(
      'git',
      ['status', '--porcelain', '--', '../packages'],
      options,
    ).trim()
    return `commit ${commit}${dirty ? ' plus uncommitted changes in packages/' : ''}`
  } catch {
    return 'unknown revision (no git)'
  }
}

function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU'
  return `${cpus().length} x ${cpu}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Linux ${release()} ${arch()}, Node ${process.version}`
}

const peers = [
  'eventsource-parser',
  'eventsource-parser-v3',
  '@microsoft/fetch-event-source',
  'fetch-event-stream',
  'hono',
  '@hono/node-server',
  'better-sse',
  'mitata',
  'esbuild',
]

async function main() {
  const settings = parseArguments(process.argv.slice(2))
  const log = (line: string) => console.log(line)
  const started = Date.now()
  const loadAtStart = loadavg()[0] ?? 0
  const sections: Section[] = []
  for (const name of settings.only) {
    const workload = workloads[name]
    if (!workload) continue
    const workloadStarted = Date.now()
    try {
      sections.push(await workload({ scale: settings.scale, log }))
    } catch (error) {
      sections.push({
        title: name,
        method: '',
        blocks: [`This workload failed: ${errorMessage(error)}`],
        checks: [{ claim: `${name} runs`, measured: errorMessage(error), pass: false }],
        notMeasured: [{ name, reason: errorMessage(error) }],
      })
    }
    log(`${name}: ${((Date.now() - workloadStarted) / 1000).toFixed(1)} s`)
  }
  const profiles = await profileMisses(sections, { scale: settings.scale, log })
  if (profiles) sections.push(profiles)
  const seconds = ((Date.now() - started) / 1000).toFixed(0)
  const load = `1-minute load average ${loadAtStart.toFixed(1)} at the start, ${(loadavg()[0] ?? 0).toFixed(1)} at the end`
  const markdown = render(sections, settings.scale, seconds, load)
  if (settings.write) {
    writeFileSync(settings.out, markdown)
    formatMarkdown(settings.out)
    log(`wrote ${settings.out} (${seconds} s)`)
  }
  for (const section of sections) {
    for (const check of section.checks) {
      const mark = check.pass === undefined ? 'n/a ' : check.pass ? 'PASS' : 'MISS'
      log(`${mark} ${check.claim}: ${check.measured}`)
    }
  }
}

function render(sections: Section[], scale: Scale, seconds: string, load: string): string {
  const versions = peers
    .map((name) => `${name.replace(/-v3$/, '')} ${packageVersion(name)}`)
    .join(', ')
  const summary = sections.flatMap((section) =>
    section.checks.map((check) => {
      const verdict = check.pass === undefined ? 'not measured' : check.pass ? 'met' : '**missed**'
      return `| ${check.claim.replaceAll('|', '\\|')} | ${check.measured} | ${verdict} |`
    }),
  )
  return [
    '# ssekit benchmarks',
    '',
    `Generated by \`npm run bench${scale === 'full' ? '' : ` -- --${scale}`}\` in ${seconds} s on ${new Date().toISOString().slice(0, 10)}. Every figure below was measured in this one run (except the connection-scale section, which is a separate, longer run and says when it was measured); nothing is copied from elsewhere.`,
    '',
    `- Machine: ${machine()}; ${load} (other work on the machine shows up as spread between rounds).`,
    `- ssekit: ${revision()}, our packages bundled from their TypeScript sources by \`src/build.ts\`.`,
    `- Peers and tools: ${versions}.`,
    '- Method: competitors run interleaved in the same run for several rounds; tables give the median with min-max over rounds, and ratios are taken per round against the named reference, then summarised the same way. Servers run each in their own child process on 127.0.0.1, clients are separate raw-socket processes, every load loop is bounded in count and time. Each section states its own method, and each bench file states it at its top.',
    '',
    '## Targets (from issue 7)',
    '',
    '| target | measured | verdict |',
    '| --- | ---: | --- |',
    ...summary,
    '',
    ...sections.flatMap((section) => [
      `## ${section.title}`,
      '',
      section.method,
      '',
      ...section.blocks.flatMap((block) => [block, '']),
    ]),
    ...scaleSection(),
  ].join('\n')
}

/** The connection-scale run is separate (`npm run bench:scale`, minutes long); its last result. */
function scaleSection(): string[] {
  const file = new URL('../results/connection-scale.md', import.meta.url)
  if (!existsSync(file)) {
    return ['## Connection scale', '', 'Not run yet: `npm run bench:scale`.', '']
  }
  return ['## Connection scale (separate run)', '', readFileSync(file, 'utf8').trim(), '']
}

await main()
