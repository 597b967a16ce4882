import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { fetchEventStream } from '@ssekit/fetch-client'
import { freePort, waitUntil, withTimeout } from '@ssekit/test-support'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DemoProcess, startDemo } from '../src/demo-process.ts'

// The README's production advice, checked through a real nginx (Debian's package; `.ci/run`
// installs it): examples/nginx/nginx.conf passes each event on at once, and the misconfiguration
// it shows for contrast (buffering forced on, gzip on text/event-stream) holds them back.
const nginxBinary = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((path) => existsSync(path))
const configTemplate = fileURLToPath(new URL('../../../examples/nginx/nginx.conf', import.meta.url))
const tickMs = 300

let demo: DemoProcess
let nginx: ChildProcess
let prefix: string
let base: string

beforeAll(async () => {
  if (nginxBinary === undefined) {
    throw new Error('nginx is not installed: apt-get install nginx (.ci/run does it)')
  }
  demo = await startDemo({ DEMO_TICK_MS: String(tickMs) })
  const port = await freePort()
  prefix = await mkdtemp(join(tmpdir(), 'ssekit-nginx-'))
  const config = (await readFile(configTemplate, 'utf8'))
    .replaceAll('__PREFIX__', prefix)
    .replaceAll('__NGINX_PORT__', String(port))
    .replaceAll('__DEMO_PORT__', String(demo.port))
  await writeFile(join(prefix, 'nginx.conf'), config)
  nginx = spawn(
    nginxBinary,
    ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', join(prefix, 'error.log')],
    {
      stdio: 'ignore',
    },
  )
  base = `http://127.0.0.1:${port}`
  await waitUntil(
    () =>
      fetch(`${base}/api/figures`).then(
        (response) => response.ok,
        () => false,
      ),
    (ok) => ok,
    20_000,
    'the demo answers through nginx',
  )
})

afterAll(async () => {
  nginx?.kill('SIGTERM')
  await demo?.stop()
  if (prefix) await rm(prefix, { recursive: true, force: true })
})

/** Milliseconds after the request at which each of the first `count` events arrived. */
async function arrivals(url: string, count: number): Promise<number[]> {
  const started = performance.now()
  const times: number[] = []
  const client = fetchEventStream(url, { reconnect: 'never' })
  try {
    for await (const _event of client) {
      times.push(performance.now() - started)
      if (times.length === count) break
    }
  } finally {
    client.close()
  }
  return times
}

describe('the demo behind nginx with examples/nginx/nginx.conf', () => {
  it('passes each tick on as it happens, not in batches', async () => {
    const times = await withTimeout(arrivals(`${base}/events/market`, 4), 15_000, 'four ticks')
    // Batched, the ticks would land together; passed on, they keep the server's pace.
    const gaps = times.slice(1).map((time, index) => time - (times[index] as number))
    for (const gap of gaps.slice(1)) expect(gap).toBeGreaterThan(tickMs / 3)
    expect(times[0]).toBeLessThan(5_000)
  })

  it('the contrast location (buffering forced on, gzip on text/event-stream) holds ticks back', async () => {
    const controller = new AbortController()
    // The first bytes of the body, or the headers' failure once aborted.
    const firstBytes = fetch(`${base}/gzipped/events/market`, {
      signal: controller.signal,
      headers: { 'accept-encoding': 'gzip' },
    }).then(async (response) => {
      const { value } = await (response.body as ReadableStream<Uint8Array>).getReader().read()
      return `${value?.byteLength ?? 0} bytes`
    })
    // Several ticks are written by the demo in this time; held in gzip's and nginx's buffers,
    // none of them reaches the client (nor do the response headers).
    const outcome = await Promise.race([
      firstBytes,
      new Promise<string>((resolve) => setTimeout(() => resolve('nothing yet'), tickMs * 5)),
    ])
    controller.abort()
    await withTimeout(
      firstBytes.catch(() => 'aborted'),
      5_000,
      'the aborted request ends',
    )
    expect(outcome).toBe('nothing yet')
  })
})
