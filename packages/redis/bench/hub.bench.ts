/**
 * Hub speed: in memory against Redis across two processes.
 *
 * Run from packages/redis: `node --import tsx --conditions ssekit-source bench/hub.bench.ts` (add
 * `--quick` for a shorter run). Starts its own `redis-server` (no persistence, default stream node
 * size) on a free loopback port and stops it after.
 *
 * Method:
 * - Latency: events are published at a fixed rate (1 000/s for 5 s) and each carries its publish
 *   time (wall clock, in ms with sub-ms precision); the subscriber records receipt minus publish.
 *   In memory, publisher and subscriber share one process and one hub. On Redis, the subscriber is
 *   a second Node process with its own hub, so the path is the append script (XADD + PUBLISH)
 *   -> the other process's subscriber connection -> its subscription, as in production. p50 and p99 of each, and the difference.
 * - Throughput: one process publishes N events as fast as it can with up to 256 publishes in flight
 *   (ioredis pipelines them on its one connection); the other process must receive every one.
 *   Events per second = N / (last receipt - first publish).
 * Latency runs measure after 1 000 warm-up events at the same rate. Each measurement runs three
 * times; the table shows the median and the range. Other load on the machine shows up directly in
 * p99 (2 cores here), so check `uptime` before trusting a run. Nothing is written
 * to disk; numbers go to stdout as a Markdown table.
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createHub, type Hub } from '@ssekit/core'
import { createRedisHub } from '@ssekit/redis'
import { startRedisServer } from '@ssekit/test-support'

const quick = process.argv.includes('--quick')
const rate = 1000
const latencySeconds = quick ? 2 : 5
const throughputEvents = quick ? 20_000 : 100_000
const rounds = 3
const warmupEvents = 1000
const now = () => performance.timeOrigin + performance.now()

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

function median(values: number[]): number {
  return percentile(values, 50)
}

async function publishAtRate(hub: Hub, topic: string, count: number): Promise<void> {
  const start = now()
  for (let index = 0; index < count; index++) {
    const due = start + (index * 1000) / rate
    const wait = due - now()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    await hub.publish(topic, { data: String(now()) })
  }
}

async function memoryLatency(): Promise<number[]> {
  const hub = createHub()
  const count = rate * latencySeconds
  const subscription = hub.subscribe('latency')
  await subscription.next()
  const latencies: number[] = []
  let warmup = warmupEvents
  const receiving = (async () => {
    for await (const event of subscription) {
      if (warmup-- > 0) continue
      latencies.push(now() - Number(event.data))
      if (latencies.length === count) return
    }
  })()
  await publishAtRate(hub, 'latency', warmupEvents + count)
  await receiving
  await hub.close()
  return latencies
}

interface SubscriberReport {
  type: 'done'
  count: number
  first: number
  last: number
  p50: number
  p99: number
}

function startSubscriber(url: string, topic: string, expected: number, warmup = 0) {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions',
      'ssekit-source',
      fileURLToPath(new URL('./_subscriber.ts', import.meta.url)),
    ],
    {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: {
        ...process.env,
        REDIS_URL: url,
        TOPIC: topic,
        EXPECT: String(expected),
        WARMUP: String(warmup),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const next = async <T>(type: string, ms: number): Promise<T> => {
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      return await Promise.race([
        (async () => {
          for (;;) {
            const { done, value } = await lines.next()
            if (done) throw new Error(`subscriber exited before "${type}"`)
            const message = JSON.parse(value) as { type: string }
            if (message.type === type) return message as T
          }
        })(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`subscriber: no "${type}" within ${ms} ms`)),
            ms,
          )
        }),
      ])
    } finally {
      clearTimeout(timer)
    }
  }
  return { child, next }
}

async function redisLatency(url: string, round: number): Promise<{ p50: number; p99: number }> {
  const count = rate * latencySeconds
  const topic = `latency-${round}`
  const subscriber = startSubscriber(url, topic, count, warmupEvents)
  const hub = await createRedisHub({ url, prefix: 'bench:' })
  try {
    await subscriber.next('ready', 30_000)
    await publishAtRate(hub, topic, warmupEvents + count)
    const report = await subscriber.next<SubscriberReport>('done', 30_000)
    return { p50: report.p50, p99: report.p99 }
  } finally {
    await hub.close()
    subscriber.child.kill()
  }
}

async function redisThroughput(url: string, round: number): Promise<number> {
  const topic = `throughput-${round}`
  const subscriber = startSubscriber(url, topic, throughputEvents)
  const hub = await createRedisHub({ url, prefix: 'bench:', history: { maxEvents: 10_000 } })
  try {
    await subscriber.next('ready', 30_000)
    const start = now()
    let next = 0
    const worker = async () => {
      while (next < throughputEvents) {
        next++
        await hub.publish(topic, { data: String(now()) })
      }
    }
    await Promise.all(Array.from({ length: 256 }, worker))
    const report = await subscriber.next<SubscriberReport>('done', 120_000)
    if (report.count !== throughputEvents)
      throw new Error(`received ${report.count} of ${throughputEvents}`)
    return throughputEvents / ((report.last - start) / 1000)
  } finally {
    await hub.close()
    subscriber.child.kill()
  }
}

const server = await startRedisServer({ durable: false })
try {
  const memory: { p50: number; p99: number }[] = []
  const redis: { p50: number; p99: number }[] = []
  const throughput: number[] = []
  for (let round = 0; round < rounds; round++) {
    const inMemory = await memoryLatency()
    memory.push({ p50: percentile(inMemory, 50), p99: percentile(inMemory, 99) })
    redis.push(await redisLatency(server.url, round))
    throughput.push(await redisThroughput(server.url, round))
  }
  const range = (values: number[], digits: number) =>
    `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)} to ${Math.max(...values).toFixed(digits)})`
  const differences = redis.map((value, index) => value.p99 - (memory[index]?.p99 ?? 0))
  console.log(`Hub bench, ${rounds} rounds${quick ? ' (quick)' : ''}, Node ${process.version}\n`)
  console.log('| measure | median (min to max) |')
  console.log('| --- | --- |')
  console.log(
    `| memory p50 publish-to-receipt, ${rate}/s, ms | ${range(
      memory.map((m) => m.p50),
      3,
    )} |`,
  )
  console.log(
    `| memory p99, ms | ${range(
      memory.map((m) => m.p99),
      3,
    )} |`,
  )
  console.log(
    `| Redis, 2 processes, p50, ms | ${range(
      redis.map((r) => r.p50),
      3,
    )} |`,
  )
  console.log(
    `| Redis, 2 processes, p99, ms | ${range(
      redis.map((r) => r.p99),
      3,
    )} |`,
  )
  console.log(`| Redis p99 minus memory p99, ms (budget 5) | ${range(differences, 3)} |`)
  console.log(
    `| Redis throughput, ${throughputEvents} events, all delivered, events/s (target 20 000) | ${range(throughput, 0)} |`,
  )
} finally {
  await server.stop()
}
