import { request as httpRequest } from 'node:http'
import { withTimeout } from '@ssekit/test-support'
import { afterEach, describe, expect, it } from 'vitest'
import { type Child, type Message, startChild } from '../src/_child.ts'
import { report, size } from '../src/_params.ts'

const children: Child[] = []
afterEach(async () => {
  for (const child of children.splice(0)) await child.kill()
})

/** Opens a stream, waits for its first bytes, then aborts it (the client leaves mid-stream). */
function connectAndAbort(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, path: '/events', agent: false })
    request.once('response', (response) => {
      response.once('data', () => {
        request.destroy()
        resolve()
      })
    })
    request.once('error', reject)
    request.end()
  })
}

async function churn(port: number, cycles: number, concurrency: number): Promise<void> {
  let started = 0
  const worker = async () => {
    while (started < cycles) {
      started++
      await withTimeout(connectAndAbort(port), 5_000, `cycle ${started}`)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

async function measure(child: Child, label: string): Promise<Message> {
  const from = child.messages.length
  child.send({ type: 'measure' })
  return child.next('measure', 20_000, label, from)
}

/** Measures until every stream the server opened has closed (aborts are noticed asynchronously). */
async function measureSettled(child: Child, opened: number, label: string): Promise<Message> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const result = await measure(child, label)
    if ((result['closed'] as number) >= opened || Date.now() > deadline) return result
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

const cycles = size(1_000, 10_000)
const warmup = 300

describe.each(['node', 'hono'])('connect/abort churn against %s', (kind) => {
  it(`${cycles} cycles: heap back to baseline after GC, no timer, listener or subscription left`, async () => {
    const child = startChild('./_churn-server.ts', { KIND: kind })
    children.push(child)
    const { port } = await child.next('ready', 20_000, 'the churn server starts')
    await churn(port as number, warmup, 16)
    const baseline = await measureSettled(child, warmup, 'baseline')
    await churn(port as number, cycles, 16)
    const after = await measureSettled(child, warmup + cycles, 'after the churn')

    const growth = (after['heapUsed'] as number) - (baseline['heapUsed'] as number)
    report(`churn ${kind}: cycles, heap baseline / after / growth (KiB), rss (MiB)`, {
      cycles,
      baselineKiB: Math.round((baseline['heapUsed'] as number) / 1024),
      afterKiB: Math.round((after['heapUsed'] as number) / 1024),
      growthKiB: Math.round(growth / 1024),
      rssMiB: Math.round((after['rss'] as number) / 1_048_576),
    })
    // Every stream that opened closed, through the hooks, and the hub let every subscription go.
    expect(after['opened']).toBe(warmup + cycles)
    expect(after['closed']).toBe(warmup + cycles)
    expect(after['subscribed']).toBe(warmup + cycles)
    expect(after['unsubscribed']).toBe(warmup + cycles)
    expect(after['subscribers']).toBe(0)
    expect(after['topics']).toBe(0)
    // No timer (heartbeat scheduler, drain timers) or socket left beyond the baseline's.
    expect(after['resources']).toEqual(baseline['resources'])
    // A leak of 1 KiB per cycle would be 10 MiB over the long run (the short one catches 2 KiB).
    expect(growth).toBeLessThan(size(1_024, 2_048) * 1024)
  })
})
