/**
 * Workload 5: a slow consumer. Run with `npm run bench -- --only=slow`.
 *
 * Method: each server target in its own child process streams 1 KiB events from a producer that
 * could push 50 MB/s (a rate-limited async generator, the same for everyone) for S seconds to one
 * raw-socket client process that reads 16 KiB/s (it pauses the socket after each read for as long
 * as that read "costs" at 16 KiB/s). The server reads its RSS and heap after two full GCs when the
 * request arrives, samples RSS every 100 ms, and reads memory again after two GCs at S seconds.
 * Reported: peak RSS growth, RSS growth and heap + external growth still held after GC at the end
 * (what is really buffered), and how many bytes the producer generated versus what the client
 * read. A backpressured server pauses its producer, so the producer stops near what the client
 * read plus the socket buffers; better-sse has no backpressure in its API and buffers everything.
 */
import { startChild } from './_child.ts'
import { type BenchOptions, bySize, type Check, errorMessage, type Section } from './_report.ts'
import { rotate, startServer, targetNames } from './_servers.ts'
import { formatNumber, formatSummary, markdownTable, summarize } from './_stats.ts'

const targets = ['plain', 'hono-streamSSE', 'better-sse', 'ssekit-node', 'ssekit-hono']
const readRate = 16_384
/** The pump's default highWaterMark (bytes): ours may hold this much for a slow client. */
const highWaterMark = 65_536
/**
 * The "small constant" allowed on top of the highWaterMark for RSS. RSS moves by a few MiB either
 * way when V8 resizes its young generation under allocation, which every server here does alike
 * (see the seed writer's row, which never holds more than one frame), so the RSS bound uses the
 * reading after GC; the peak is shown next to it.
 */
const rssSlack = 4 * 1048576
/** The allowance for what stays buffered after GC (heap + external). */
const slack = 1048576

interface Reading {
  rss: number
  heapUsed: number
  external: number
}

interface Run {
  peakRssGrowth: number
  rssGrowthAfterGc: number
  retainedGrowth: number
  producedBytes: number
  readBytes: number
}

async function runOnce(target: string, seconds: number): Promise<Run | { unavailable: string }> {
  const started = await startServer(target)
  if ('unavailable' in started) return started
  const { child: server, port } = started.server
  const client = startChild('_load-client.ts', [
    'slow',
    String(port),
    String(seconds),
    String(readRate),
  ])
  try {
    const done = await server.next<{
      type: 'slow-done'
      baseline: Reading
      after: Reading
      peakRss: number
      producedBytes: number
    }>('slow-done', seconds * 1000 + 60_000, `${target}: slow consumer`)
    const read = await client.next<{ type: 'slow-result'; bytes: number }>(
      'slow-result',
      30_000,
      'client result',
    )
    return {
      peakRssGrowth: done.peakRss - done.baseline.rss,
      rssGrowthAfterGc: done.after.rss - done.baseline.rss,
      retainedGrowth:
        done.after.heapUsed +
        done.after.external -
        (done.baseline.heapUsed + done.baseline.external),
      producedBytes: done.producedBytes,
      readBytes: read.bytes,
    }
  } finally {
    await Promise.all([client.stop(), server.stop()])
  }
}

export async function runSlowConsumer(options: BenchOptions): Promise<Section> {
  const seconds = bySize(options.scale, { full: 10, quick: 4, smoke: 1 })
  const rounds = bySize(options.scale, { full: 1, quick: 1, smoke: 1 })
  const runs = new Map<string, Run[]>(targets.map((target) => [target, []]))
  const unavailable = new Map<string, string>()
  for (let round = 0; round < rounds; round++) {
    for (const target of rotate(targets, round)) {
      try {
        const result = await runOnce(target, seconds)
        if ('unavailable' in result) unavailable.set(target, result.unavailable)
        else runs.get(target)?.push(result)
      } catch (error) {
        unavailable.set(target, `failed: ${errorMessage(error).split('\n')[0]}`)
      }
      options.log(`slow consumer: ${target} done`)
    }
  }
  const mb = (bytes: number) => bytes / 1048576
  const rows = targets.map((target) => {
    const list = runs.get(target) ?? []
    const name = targetNames[target] ?? target
    const reason = unavailable.get(target)
    if (reason || list.length === 0) return [name, 'n/a', 'n/a', 'n/a', 'n/a', 'n/a', reason ?? '']
    const cell = (pick: (run: Run) => number) =>
      formatSummary(summarize(list.map((run) => mb(pick(run)))))
    return [
      name,
      cell((run) => run.peakRssGrowth),
      cell((run) => run.rssGrowthAfterGc),
      cell((run) => run.retainedGrowth),
      cell((run) => run.producedBytes),
      cell((run) => run.readBytes),
      '',
    ]
  })
  const checks: Check[] = []
  const seed = runs.get('plain') ?? []
  for (const target of ['ssekit-node', 'ssekit-hono']) {
    const label = target === 'ssekit-node' ? 'node adapter' : 'Hono adapter'
    const rssClaim = `${label}, slow consumer: RSS growth after GC <= highWaterMark + ${mb(rssSlack)} MiB`
    const retainedClaim = `${label}, slow consumer: memory retained after GC <= highWaterMark + ${mb(slack)} MiB`
    const list = runs.get(target) ?? []
    if (unavailable.has(target) || list.length === 0 || seed.length === 0) {
      const reason = unavailable.get(target) ?? unavailable.get('plain') ?? 'not measured'
      checks.push({ claim: rssClaim, measured: reason, pass: undefined })
      checks.push({ claim: retainedClaim, measured: reason, pass: undefined })
      continue
    }
    const afterGc = summarize(list.map((run) => run.rssGrowthAfterGc))
    const peak = summarize(list.map((run) => run.peakRssGrowth))
    const seedPeak = summarize(seed.map((run) => run.peakRssGrowth))
    const retained = summarize(list.map((run) => run.retainedGrowth))
    checks.push({
      claim: rssClaim,
      measured: `${formatNumber(mb(afterGc.max))} MiB (peak +${formatNumber(mb(peak.max))} MiB; seed peak +${formatNumber(mb(seedPeak.max))} MiB)`,
      pass: afterGc.max <= highWaterMark + rssSlack,
    })
    checks.push({
      claim: retainedClaim,
      measured: `+${formatNumber(mb(retained.max))} MiB`,
      pass: retained.max <= highWaterMark + slack,
    })
  }
  return {
    notMeasured: [...unavailable].map(([name, reason]) => ({ name, reason })),
    title: '5. Slow consumer',
    method: `One stream per server; the producer could push 50 MB/s of 1 KiB events for ${seconds} s; the client reads ${formatNumber(readRate / 1024)} KiB/s. Memory is the server process's, relative to a reading after two GCs when the request arrived. "Retained" is heap + external memory still held after two GCs at the end: what the server is really buffering. ${rounds === 1 ? 'One run per target (interleaving is moot: the result is a bound, not a speed).' : `${rounds} rounds.`} All figures in MiB. RSS moves by a few MiB either way when V8 resizes its young generation (the seed's writer, which holds at most one frame, shows how much), so the RSS bar for ours uses the reading after GC, with the peak shown beside it; "produced" minus "client read" beyond the retained memory sits in the kernel's loopback socket buffers.`,
    blocks: [
      markdownTable(
        [
          'server',
          'peak RSS growth',
          'RSS growth after GC',
          'retained (heap + external) after GC',
          'produced',
          'client read',
          'note',
        ],
        rows,
      ),
    ],
    checks,
  }
}
