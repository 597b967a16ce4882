/**
 * Workload 6: the Redis hub. Run with `npm run bench -- --only=redis`.
 *
 * Method: this runs the hub's own benchmark, `packages/redis/bench/hub.bench.ts` (written with
 * @ssekit/redis, method at its top: a real `redis-server` on a free loopback port, publish-to-receipt
 * latency at 1 000 events/s in memory and across two processes through Redis, and sustained
 * throughput with every event delivered, three rounds each), as a child process bounded in time,
 * and copies its table here. The checks read the two figures issue 5 sets a bar for.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { type BenchOptions, type Check, type Section, withTimeout } from './_report.ts'

const packageDirectory = fileURLToPath(new URL('../../packages/redis/', import.meta.url))

function runHubBench(
  quick: boolean,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions',
      'ssekit-source',
      'bench/hub.bench.ts',
      ...(quick ? ['--quick'] : []),
    ],
    { cwd: packageDirectory, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    stdout += text
  })
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr = (stderr + text).slice(-4000)
  })
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on('exit', (code) => resolve({ code, stdout, stderr }))
  })
  return withTimeout(exited, 240_000, 'packages/redis/bench/hub.bench.ts').catch(
    (error: unknown) => {
      child.kill('SIGKILL')
      throw error
    },
  )
}

/** The first number in the table row whose label starts with `label`. */
function rowMedian(table: string, label: string): number | undefined {
  const row = table.split('\n').find((line) => line.startsWith(`| ${label}`))
  const cell = row?.split('|')[2]
  const match = cell
    ?.replaceAll(',', '')
    .replaceAll(' ', '')
    .match(/^-?[\d.]+/)
  return match ? Number(match[0]) : undefined
}

export async function runRedis(options: BenchOptions): Promise<Section> {
  const title = '6. Redis hub'
  if (options.scale === 'smoke') {
    return {
      title,
      method: 'Skipped in the smoke run (it starts redis-server).',
      blocks: [],
      checks: [],
      notMeasured: [],
    }
  }
  // Always the hub bench's quick mode: its full mode alone takes about a minute.
  const result = await runHubBench(true)
  const table = result.stdout.trim()
  options.log(`redis: hub bench exited ${result.code}`)
  const claims = {
    latency: 'Redis p99 publish-to-receipt <= in-memory p99 + 5 ms at 1 000 events/s (issue 5)',
    throughput: '>= 20 000 events/s through one Redis, all delivered (issue 5)',
  }
  if (result.code !== 0) {
    const reason = result.stderr.trim().split('\n').slice(-3).join(' ').slice(0, 300)
    return {
      title,
      method: '',
      blocks: [`The hub bench failed (exit ${result.code}): ${reason}`],
      checks: [
        { claim: claims.latency, measured: 'hub bench failed', pass: undefined },
        { claim: claims.throughput, measured: 'hub bench failed', pass: undefined },
      ],
      notMeasured: [{ name: 'redis hub bench', reason }],
    }
  }
  const difference = rowMedian(table, 'Redis p99 minus memory p99')
  const throughput = rowMedian(table, 'Redis throughput')
  const checks: Check[] = [
    {
      claim: claims.latency,
      measured: difference === undefined ? 'row not found' : `+${difference} ms`,
      pass: difference === undefined ? undefined : difference <= 5,
    },
    {
      claim: claims.throughput,
      measured: throughput === undefined ? 'row not found' : `${throughput} events/s`,
      pass: throughput === undefined ? undefined : throughput >= 20_000,
    },
  ]
  return {
    title,
    method:
      'The output of `packages/redis/bench/hub.bench.ts --quick` (run from `packages/redis`; its method is written at its top): a real `redis-server` on a free loopback port; in-memory latency with publisher and subscriber in one process, Redis latency with the subscriber in a second process; throughput with up to 256 publishes in flight and every event received by the other process. Three rounds; median (min to max).',
    blocks: [table],
    checks,
    notMeasured: [],
  }
}
