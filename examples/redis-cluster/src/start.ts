/**
 * Starts two processes of src/server.ts behind one Redis (REDIS_URL, else a `redis-server` of its
 * own on a free port), then proves they share streams: it listens on the second, publishes on the
 * first, and prints what arrived. Ctrl+C stops everything it started.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { fetchEventStream } from '@ssekit/fetch-client'

const port = Number(process.env['PORT'] ?? 3011)
const ports = [port, Number(process.env['PORT2'] ?? port + 1)]
const children: ChildProcess[] = []
let redisDirectory: string | undefined

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function startRedis(): Promise<string> {
  const redisPort = await freePort()
  redisDirectory = mkdtempSync(join(tmpdir(), 'ssekit-cluster-redis-'))
  const redis = spawn(
    'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', redisDirectory, '--save', ''],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  children.push(redis)
  await new Promise<void>((resolve, reject) => {
    redis.once('error', () =>
      reject(new Error('redis-server not found: install it, or set REDIS_URL')),
    )
    redis.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Ready to accept connections')) resolve()
    })
  })
  return `redis://127.0.0.1:${redisPort}`
}

async function waitForHttp(url: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (
      await fetch(url).then(
        () => true,
        () => false,
      )
    )
      return
    await sleep(100)
  }
  throw new Error(`${url} did not answer within 10 s`)
}

// Whatever ends this script (Ctrl+C, SIGTERM, an error) ends what it started.
process.once('exit', () => {
  for (const child of children.reverse()) child.kill('SIGTERM')
  if (redisDirectory !== undefined) rmSync(redisDirectory, { recursive: true, force: true })
})
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(0))

const redisUrl = process.env['REDIS_URL'] || (await startRedis())
const serverPath = fileURLToPath(new URL('server.ts', import.meta.url))
for (const serverPort of ports) {
  children.push(
    spawn(process.execPath, ['--import', 'tsx', '--conditions=ssekit-source', serverPath], {
      env: { ...process.env, PORT: String(serverPort), REDIS_URL: redisUrl },
      stdio: 'inherit',
    }),
  )
}
const [first, second] = ports.map((port) => `http://127.0.0.1:${port}`) as [string, string]
await Promise.all([waitForHttp(first), waitForHttp(second)])

// The proof: subscribed on the second process, published on the first.
let opened = (): void => {}
const open = new Promise<void>((resolve) => {
  opened = resolve
})
const events = fetchEventStream(`${second}/events`, { parse: 'json', onOpen: () => opened() })
const received = events.next()
await open
await fetch(`${first}/publish`, { method: 'POST', body: `hello from ${first}` })
const timeout = sleep(5000).then(() => {
  throw new Error('the event published on one process never reached the other')
})
const { value } = await Promise.race([received, timeout])
events.close()
console.log(
  `\n✓ published on ${first}, received on ${second}:`,
  value?.data,
  `(id ${value?.lastEventId})`,
)
console.log(`
  Try it:  curl -N ${second}/events
           curl -X POST --data 'hi' ${first}/publish
  Resume on the other process: curl -N -H 'Last-Event-ID: <an id>' ${first}/events
  Ctrl+C stops both processes${process.env['REDIS_URL'] ? '' : ' and Redis'}.
`)
