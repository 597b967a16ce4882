/**
 * The connection-scale run: how many concurrent idle streams one Node process holds before the
 * p99 broadcast latency passes 1 s. `npm run bench:scale` (from the repo root). It raises the
 * soft open-files limit to the hard limit first (`ulimit -n $(ulimit -Hn)` in the npm script),
 * then steps up the number of idle streams for the seed's plain writer and for @ssekit/node (with
 * the in-memory hub), one fresh server and client process per step, until p99 passes 1 s or the
 * file-descriptor limit is reached. Each step is the fan-out measurement of `fanout.bench.ts`
 * (memory after two GCs, three broadcasts). Writes `bench/results/connection-scale.md`, which
 * `npm run bench` copies into BENCHMARKS.md with the date it was measured.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { errorMessage, formatMarkdown } from './_report.ts'
import { targetNames } from './_servers.ts'
import { formatNumber, markdownTable } from './_stats.ts'
import { runFanoutOnce } from './fanout.bench.ts'

const limit = Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim())
// The client and the server are separate processes, each needs one descriptor per stream.
const maximum = Number.isFinite(limit) ? limit - 200 : 100_000
const steps = [1000, 5000, 10_000, 20_000, 50_000, 100_000].filter((step) => step < maximum)
steps.push(maximum)
const targets = ['plain', 'ssekit-node']
const rows: string[][] = []
const verdicts: string[] = []
const log = (line: string) => console.log(line)
log(`open files limit ${limit}; steps ${steps.join(', ')}`)
for (const target of targets) {
  for (const step of steps) {
    try {
      const result = await runFanoutOnce(target, step, log)
      if ('unavailable' in result) {
        rows.push([
          targetNames[target] ?? target,
          formatNumber(step),
          'n/a',
          'n/a',
          'n/a',
          result.unavailable,
        ])
        break
      }
      rows.push([
        targetNames[target] ?? target,
        formatNumber(step),
        formatNumber(result.rssPerConnection / 1024),
        formatNumber((result.rssPerConnection * step) / 1048576),
        formatNumber(result.p99),
        formatNumber(result.last),
      ])
      log(`${target} ${step}: p99 ${result.p99.toFixed(0)} ms`)
      const name = targetNames[target] ?? target
      if (result.p99 > 1000) {
        verdicts.push(`- ${name}: p99 passed 1 s at ${formatNumber(step)} streams.`)
        break
      }
      if (step === steps.at(-1)) {
        verdicts.push(
          `- ${name}: held ${formatNumber(step)} streams (the descriptor limit) with p99 ${formatNumber(result.p99)} ms, ${formatNumber((result.rssPerConnection * step) / 1048576)} MB of RSS for the streams; p99 never passed 1 s.`,
        )
      }
    } catch (error) {
      rows.push([
        targetNames[target] ?? target,
        formatNumber(step),
        'n/a',
        'n/a',
        'n/a',
        errorMessage(error).split('\n')[0] ?? '',
      ])
      break
    }
  }
}
const markdown = [
  `Measured by \`npm run bench:scale\` on ${new Date().toISOString().slice(0, 16)} UTC, open-files limit ${limit} per process (the npm script raises the soft limit to the hard limit; the run stops just under it, at ${formatNumber(maximum)} streams, since each stream costs a descriptor in the server process). Each step: a fresh server process and one raw-socket client process; RSS growth per stream after two GCs; three broadcasts, p99 and last-client latency (median of the three). The run stops for a target once p99 passes 1 s.`,
  '',
  ...verdicts,
  '',
  markdownTable(
    [
      'server',
      'idle streams',
      'RSS KB/stream',
      'RSS for the streams, MB',
      'broadcast p99 ms',
      'last client ms',
    ],
    rows,
  ),
].join('\n')
mkdirSync(new URL('../results/', import.meta.url), { recursive: true })
const resultFile = fileURLToPath(new URL('../results/connection-scale.md', import.meta.url))
writeFileSync(resultFile, `${markdown}\n`)
formatMarkdown(resultFile)
console.log(markdown)
