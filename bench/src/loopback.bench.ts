/**
 * Workload 3: one connection end to end over loopback. Run with `npm run bench -- --only=loopback`.
 *
 * Method: each server target runs in its own child process (`_server.ts`) and a separate raw-socket
 * client process (`_load-client.ts stream`) requests a warm-up stream and then N small events
 * (`id: i`, `data: {"t":"word"}`), which the server sends as fast as backpressure allows. The
 * client counts events in the de-chunked body (the run is rejected unless it saw exactly N) and
 * times request to last byte; the server reports its own process CPU time (user + system, from
 * `process.cpuUsage()`) from request to response end. Targets run interleaved, a fresh pair of
 * processes per run, for several rounds; ratios are taken per round against the seed's plain
 * writer (template string + `res.write` + await `drain`).
 */
import { startChild } from './_child.ts'
import { type BenchOptions, bySize, type Check, errorMessage, type Section } from './_report.ts'
import { rotate, startServer, targetNames } from './_servers.ts'
import { formatNumber, formatRatio, formatSummary, markdownTable, summarize } from './_stats.ts'

const targets = ['plain', 'hono-streamSSE', 'better-sse', 'ssekit-node', 'ssekit-hono']

interface Run {
  eventsPerSecond: number
  cpuSecondsPerMillion: number
}

async function runOnce(target: string, count: number): Promise<Run | { unavailable: string }> {
  const started = await startServer(target)
  if ('unavailable' in started) return started
  const { child: server, port } = started.server
  const warmup = Math.max(1000, Math.round(count / 10))
  const client = startChild('_load-client.ts', [
    'stream',
    String(port),
    String(warmup),
    String(count),
  ])
  try {
    const result = await client.next<{ type: 'stream-result'; events: number; ms: number }>(
      'stream-result',
      180_000,
      `${target}: ${count} events`,
    )
    await server.next('stream-done', 10_000, 'warm-up stream done')
    const done = await server.next<{ type: 'stream-done'; cpuMicros: number }>(
      'stream-done',
      10_000,
      'stream done',
    )
    if (result.events !== count) {
      return { unavailable: `client saw ${result.events} of ${count} events` }
    }
    return {
      eventsPerSecond: count / (result.ms / 1000),
      cpuSecondsPerMillion: done.cpuMicros / 1e6 / (count / 1e6),
    }
  } finally {
    await Promise.all([client.stop(), server.stop()])
  }
}

export async function runLoopback(options: BenchOptions): Promise<Section> {
  const count = bySize(options.scale, { full: 1_000_000, quick: 300_000, smoke: 5_000 })
  const rounds = bySize(options.scale, { full: 2, quick: 2, smoke: 1 })
  const runs = new Map<string, Run[]>(targets.map((target) => [target, []]))
  const unavailable = new Map<string, string>()
  for (let round = 0; round < rounds; round++) {
    for (const target of rotate(targets, round)) {
      if (unavailable.has(target)) continue
      try {
        const result = await runOnce(target, count)
        if ('unavailable' in result) unavailable.set(target, result.unavailable)
        else runs.get(target)?.push(result)
      } catch (error) {
        unavailable.set(target, `failed: ${errorMessage(error).split('\n')[0]}`)
      }
    }
    options.log(`loopback: round ${round + 1}/${rounds} done`)
  }
  const ratio = (target: string, reference: string, key: keyof Run, invert = false) => {
    const ours = runs.get(target) ?? []
    const base = runs.get(reference) ?? []
    const values: number[] = []
    for (let round = 0; round < Math.min(ours.length, base.length); round++) {
      const a = (ours[round] as Run)[key]
      const b = (base[round] as Run)[key]
      values.push(invert ? b / a : a / b)
    }
    return summarize(values)
  }
  const rows = targets.map((target) => {
    const reason = unavailable.get(target)
    const list = runs.get(target) ?? []
    if (reason || list.length === 0)
      return [targetNames[target] ?? target, 'n/a', 'n/a', 'n/a', 'n/a', reason ?? '']
    return [
      targetNames[target] ?? target,
      formatSummary(summarize(list.map((run) => run.eventsPerSecond))),
      target === 'plain'
        ? '1.00x (reference)'
        : formatRatio(ratio(target, 'plain', 'eventsPerSecond')),
      formatSummary(summarize(list.map((run) => run.cpuSecondsPerMillion))),
      target === 'plain'
        ? '1.00x (reference)'
        : formatRatio(ratio(target, 'plain', 'cpuSecondsPerMillion')),
      target === 'hono-streamSSE'
        ? '1.00x'
        : formatRatio(ratio(target, 'hono-streamSSE', 'eventsPerSecond')),
    ]
  })
  const check = (
    claim: string,
    target: string,
    reference: string,
    key: keyof Run,
    pass: (value: number) => boolean,
  ): Check => {
    if (unavailable.has(target) || unavailable.has(reference)) {
      return {
        claim,
        measured: unavailable.get(target) ?? unavailable.get(reference) ?? '',
        pass: undefined,
      }
    }
    const summary = ratio(target, reference, key)
    return { claim, measured: formatRatio(summary), pass: summary.n > 0 && pass(summary.median) }
  }
  return {
    notMeasured: [...unavailable].map(([name, reason]) => ({ name, reason })),
    title: '3. One connection over loopback',
    method: `${formatNumber(count)} small events on one connection, as fast as backpressure allows, ${rounds} interleaved rounds, a fresh server and client process per run (after a warm-up stream of a tenth of the size on the same server). Events/s is measured by the raw-socket client from request to last byte (it must count exactly ${formatNumber(count)} events); server CPU is the server process's user + system time from request to response end. better-sse's \`push()\` ignores backpressure, so its loop waits for \`drain\` itself.`,
    blocks: [
      markdownTable(
        [
          'server',
          'events/s',
          'events/s vs seed',
          'server CPU s per 1M events',
          'CPU/event vs seed',
          'events/s vs Hono streamSSE',
        ],
        rows,
      ),
    ],
    checks: [
      check(
        'node adapter >= 1.5x the seed writer in events/s',
        'ssekit-node',
        'plain',
        'eventsPerSecond',
        (value) => value >= 1.5,
      ),
      check(
        'node adapter server CPU per event <= the seed writer',
        'ssekit-node',
        'plain',
        'cpuSecondsPerMillion',
        (value) => value <= 1,
      ),
      check(
        'node adapter >= 3x Hono streamSSE in events/s',
        'ssekit-node',
        'hono-streamSSE',
        'eventsPerSecond',
        (value) => value >= 3,
      ),
      check(
        'Hono adapter >= 2x Hono streamSSE in events/s (issue 4)',
        'ssekit-hono',
        'hono-streamSSE',
        'eventsPerSecond',
        (value) => value >= 2,
      ),
    ],
  }
}
