// The receiving process of hub.bench.ts: one Redis hub, one subscription, and a report of each
// event's publish-to-receipt latency (the publisher stamps `data` with its wall clock in ms; both
// processes share this machine's clock). Driven by environment variables, answers on stdout.
import { createRedisHub } from '@ssekit/redis'

const { REDIS_URL, TOPIC, EXPECT, WARMUP } = process.env
const expected = Number(EXPECT)
// The first events only warm up the JIT and the connections; they are not measured.
let warmup = Number(WARMUP ?? '0')
const hub = await createRedisHub({ url: REDIS_URL, prefix: 'bench:' })
const subscription = hub.subscribe(TOPIC as string)
await subscription.ready
const latencies = new Float64Array(expected)
let count = 0
let first = 0
process.stdout.write(`${JSON.stringify({ type: 'ready' })}\n`)
for await (const event of subscription) {
  if (event.data === undefined) continue
  if (warmup > 0) {
    warmup--
    continue
  }
  const now = performance.timeOrigin + performance.now()
  if (count === 0) first = now
  latencies[count++] = now - Number(event.data)
  if (count === expected) break
}
const last = performance.timeOrigin + performance.now()
const sorted = latencies.slice(0, count).sort()
const at = (p: number) => sorted[Math.min(count - 1, Math.floor((p / 100) * count))]
await hub.close()
process.stdout.write(
  `${JSON.stringify({ type: 'done', count, first, last, p50: at(50), p99: at(99) })}\n`,
  () => process.exit(0),
)
