/**
 * Workload 4: fan-out to idle connections. Run with `npm run bench -- --only=fanout`.
 *
 * Method: each server target runs in its own child process; one raw-socket client process
 * (`_load-client.ts idle`) opens a few warm-up streams, the server's RSS and heap are read after two
 * full GCs (the baseline), then the client opens the rest up to N idle streams and memory is read
 * again the same way: (after - baseline) / (streams opened after the baseline) is the cost of one
 * connection. Then three broadcasts, one at a time: the server stamps the event with the time it
 * starts writing, the client records each connection's receipt time, and reports p50, p99 and the
 * last connection's latency (all connections must receive it). Ours broadcast through the product's
 * in-memory hub (`createHub`, `publish` -> `subscribe`); the seed loops over a `Set` of responses;
 * Hono calls `writeSSE` per stream; better-sse uses a `Channel`. A reference row, "floor", is Hono
 * on @hono/node-server with no SSE code: its route hands the raw node response over the way
 * @ssekit/hono does and holds it like the seed, so it shows what Hono itself costs per connection
 * under any Hono adapter. Each target keeps its default
 * heartbeat (the seed: one shared interval). Interleaved rounds, fresh processes per run.
 */
import { startChild } from './_child.ts'
import { type BenchOptions, bySize, type Check, errorMessage, type Section } from './_report.ts'
import { rotate, startServer, targetNames } from './_servers.ts'
import { formatNumber, formatRatio, formatSummary, markdownTable, summarize } from './_stats.ts'

// Every server target; hono-floor is a reference, not a contender: what Hono itself costs under
// any Hono adapter.
const targets = Object.keys(targetNames)

interface MemoryReading {
  rss: number
  heapUsed: number
  external: number
  arrayBuffers: number
  spaces: Record<string, number>
  connections: number
}

interface Run {
  rssPerConnection: number
  heapPerConnection: number
  /** Median over the broadcasts of the last connection's latency (ms). */
  last: number
  p99: number
  p50: number
}

export async function runFanoutOnce(
  target: string,
  count: number,
  log: (line: string) => void,
  broadcasts = 3,
): Promise<Run | { unavailable: string }> {
  const runStarted = performance.now()
  const started = await startServer(target)
  if ('unavailable' in started) return started
  const { child: server, port } = started.server
  const warm = Math.min(100, Math.max(10, Math.round(count / 20)))
  const client = startChild('_load-client.ts', ['idle', String(port), String(count), String(warm)])
  try {
    const timeout = 30_000 + count * 10
    const warmed = await client.next<{ type: 'warm'; connected: number }>(
      'warm',
      timeout,
      'warm-up streams',
    )
    server.send({ type: 'memory' })
    const before = await server.next<{ type: 'memory' } & MemoryReading>(
      'memory',
      30_000,
      'baseline memory',
    )
    client.send({ type: 'continue' })
    const connected = await client.next<{
      type: 'connected'
      connected: number
      failed: number
      ms: number
    }>('connected', timeout, `${count} idle streams`)
    if (connected.connected !== count) {
      return {
        unavailable: `${connected.connected} of ${count} streams opened (${connected.failed} failed)`,
      }
    }
    // Let the last streams' first writes and any deferred setup settle before reading memory.
    await new Promise((resolve) => setTimeout(resolve, 500))
    server.send({ type: 'memory' })
    const after = await server.next<{ type: 'memory' } & MemoryReading>('memory', 30_000, 'memory')
    const added = count - warmed.connected
    // Where the memory went, per connection: the heap spaces V8 committed, and buffers outside it.
    const grown = Object.entries(after.spaces)
      .map(([name, size]) => [name, (size - (before.spaces[name] ?? 0)) / added] as const)
      .filter(([, size]) => Math.abs(size) >= 100)
      .map(([name, size]) => `${name.replace('_space', '')} ${(size / 1024).toFixed(2)}`)
    log(
      `  ${target} ${count}: ${Math.round(connected.ms)} ms to connect, ${Math.round(performance.now() - runStarted)} ms so far; KB/conn: rss ${((after.rss - before.rss) / added / 1024).toFixed(2)}, external ${((after.external - before.external) / added / 1024).toFixed(2)}, committed ${grown.join(', ')}`,
    )
    const latencies: { last: number; p99: number; p50: number }[] = []
    for (let seq = 1; seq <= broadcasts; seq++) {
      client.send({ type: 'expect', seq })
      await client.next('expecting', 10_000, 'client expecting')
      server.send({ type: 'broadcast', seq })
      const received = await client.next<{
        type: 'received'
        received: number
        p50: number
        p99: number
        max: number
      }>('received', 30_000, `broadcast ${seq}`)
      await server.next('broadcast-sent', 10_000, 'broadcast sent')
      if (received.received !== count) {
        return { unavailable: `broadcast ${seq} reached ${received.received} of ${count} streams` }
      }
      latencies.push({ last: received.max, p99: received.p99, p50: received.p50 })
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    return {
      rssPerConnection: (after.rss - before.rss) / added,
      heapPerConnection: (after.heapUsed - before.heapUsed) / added,
      last: summarize(latencies.map((entry) => entry.last)).median,
      p99: summarize(latencies.map((entry) => entry.p99)).median,
      p50: summarize(latencies.map((entry) => entry.p50)).median,
    }
  } finally {
    await Promise.all([client.stop(), server.stop()])
  }
}

export async function runFanout(options: BenchOptions): Promise<Section> {
  // [streams, rounds]: one 10 000 round takes about 25 s for the six servers, one 1 000 round
  // about 8 s. At 1 000 the young generation is a large share of the RSS growth and moves from
  // round to round, so that size gets the most rounds.
  const plan = bySize<[number, number][]>(options.scale, {
    full: [
      [1000, 5],
      [5000, 2],
      [10_000, 2],
    ],
    quick: [
      [1000, 1],
      [5000, 1],
    ],
    smoke: [[50, 1]],
  })
  const blocks: string[] = []
  const checks: Check[] = []
  const notMeasured: Section['notMeasured'] = []
  for (const [size, rounds] of plan) {
    const runs = new Map<string, Run[]>(targets.map((target) => [target, []]))
    const unavailable = new Map<string, string>()
    for (let round = 0; round < rounds; round++) {
      for (const target of rotate(targets, round)) {
        if (unavailable.has(target)) continue
        try {
          const result = await runFanoutOnce(target, size, options.log)
          if ('unavailable' in result) unavailable.set(target, result.unavailable)
          else runs.get(target)?.push(result)
        } catch (error) {
          unavailable.set(target, `failed: ${errorMessage(error).split('\n')[0]}`)
        }
      }
      options.log(`fanout ${size}: round ${round + 1}/${rounds} done`)
    }
    const ratio = (target: string, key: keyof Run) => {
      const ours = runs.get(target) ?? []
      const base = runs.get('plain') ?? []
      const values: number[] = []
      for (let round = 0; round < Math.min(ours.length, base.length); round++) {
        values.push((ours[round] as Run)[key] / (base[round] as Run)[key])
      }
      return summarize(values)
    }
    for (const [name, reason] of unavailable)
      notMeasured.push({ name: `${name} (${size})`, reason })
    const kb = (bytes: number) => bytes / 1024
    const rows = targets.map((target) => {
      const list = runs.get(target) ?? []
      const name = targetNames[target] ?? target
      const reason = unavailable.get(target)
      if (reason || list.length === 0)
        return [name, 'n/a', 'n/a', 'n/a', 'n/a', 'n/a', 'n/a', 'n/a', reason ?? '']
      const isBase = target === 'plain'
      return [
        name,
        formatSummary(summarize(list.map((run) => kb(run.rssPerConnection)))),
        isBase ? '1.00x (reference)' : formatRatio(ratio(target, 'rssPerConnection')),
        formatSummary(summarize(list.map((run) => kb(run.heapPerConnection)))),
        isBase ? '1.00x (reference)' : formatRatio(ratio(target, 'heapPerConnection')),
        formatSummary(summarize(list.map((run) => run.last))),
        isBase ? '1.00x (reference)' : formatRatio(ratio(target, 'last')),
        formatSummary(summarize(list.map((run) => run.p99))),
        isBase ? '1.00x (reference)' : formatRatio(ratio(target, 'p99')),
      ]
    })
    blocks.push(
      `#### ${formatNumber(size)} idle connections`,
      markdownTable(
        [
          'server',
          'RSS KB/conn',
          'RSS vs seed',
          'heap KB/conn',
          'heap vs seed',
          'broadcast: last client ms',
          'last vs seed',
          'broadcast p99 ms',
          'p99 vs seed',
        ],
        rows,
      ),
    )
    for (const target of ['ssekit-node', 'ssekit-hono']) {
      const label = target === 'ssekit-node' ? 'node adapter' : 'Hono adapter'
      const reason = unavailable.get(target) ?? unavailable.get('plain')
      if (reason) {
        for (const what of ['RSS/conn', 'heap/conn']) {
          checks.push({
            claim: `${label} at ${formatNumber(size)}: ${what} <= 1.25x the seed`,
            measured: reason,
            pass: undefined,
          })
        }
        continue
      }
      const rss = ratio(target, 'rssPerConnection')
      checks.push({
        claim: `${label} at ${formatNumber(size)}: RSS/conn <= 1.25x the seed`,
        measured: formatRatio(rss),
        pass: rss.median <= 1.25,
      })
      const heap = ratio(target, 'heapPerConnection')
      checks.push({
        claim: `${label} at ${formatNumber(size)}: heap/conn <= 1.25x the seed`,
        measured: formatRatio(heap),
        pass: heap.median <= 1.25,
      })
      if (target === 'ssekit-node') {
        const last = ratio(target, 'last')
        const p99 = ratio(target, 'p99')
        checks.push({
          claim: `${label} at ${formatNumber(size)}: broadcast to last client and p99 no worse than the seed`,
          measured: `last ${formatRatio(last)}, p99 ${formatRatio(p99)}`,
          pass: last.median <= 1 && p99.median <= 1,
        })
      }
    }
    if (
      !unavailable.has('ssekit-hono') &&
      !unavailable.has('hono-streamSSE') &&
      size === plan.at(-1)?.[0]
    ) {
      const ours = runs.get('ssekit-hono') ?? []
      const hono = runs.get('hono-streamSSE') ?? []
      const values = ours.map(
        (run, index) =>
          run.rssPerConnection / ((hono[index] as Run | undefined)?.rssPerConnection ?? Number.NaN),
      )
      const summary = summarize(values)
      checks.push({
        claim: `Hono adapter at ${formatNumber(size)}: RSS/conn <= 0.5x Hono streamSSE (issue 4)`,
        measured: formatRatio(summary),
        pass: summary.n > 0 && summary.median <= 0.5,
      })
    }
  }
  return {
    title: '4. Fan-out to idle connections',
    method: `N idle streams held by one raw-socket client process; server memory read after two full GCs before and after opening them (per connection = growth / streams added); then three broadcasts, each stamped by the server when it starts writing and timed at the client per connection (every connection must receive it; the table gives the median over the three of the last client's latency and of the p99). ${plan.map(([size, rounds]) => `${formatNumber(size)}: ${rounds} round${rounds === 1 ? '' : 's'}`).join(', ')}, targets interleaved, fresh processes per run; ratios per round against the seed (lower is better for every column here). The "floor" row is not an SSE library: Hono on @hono/node-server handing the raw node response over as @ssekit/hono does and holding it like the seed, so it shows what Hono itself costs per connection under any Hono adapter.`,
    blocks,
    checks,
    notMeasured,
  }
}
