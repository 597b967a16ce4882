/**
 * One benchmark server in its own process: `_server.ts <target>`, driven by its parent over IPC.
 * Every target serves the same three routes with the same events:
 * - `GET /stream?n=N`: N small events (`id: i`, `data: {"t":"word"}`) as fast as backpressure allows;
 *   the process CPU time from request to response end is reported (`stream-done`);
 * - `GET /idle`: an idle stream that only ever receives broadcasts (IPC `broadcast`);
 * - `GET /slow?seconds=S&rate=R`: 1 KiB events produced at up to R bytes/s for S seconds, memory
 *   sampled every 100 ms and reported at the end (`slow-done`).
 * IPC `memory` answers with RSS and heap after two full GCs; `heap-snapshot` writes one (after GCs).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8'
import { serve } from '@hono/node-server'
import { createChannel, createSession } from 'better-sse'
import { Hono } from 'hono'
import { type SSEStreamingApi, streamSSE } from 'hono/streaming'
import { exitWithParent, tell } from './_child.ts'
import { type Hub, loadHono, loadHub, loadNode, type Source } from './_ours.ts'

export const serverTargets = [
  'plain',
  'hono-streamSSE',
  'better-sse',
  'ssekit-node',
  'ssekit-hono',
  'hono-floor',
] as const
export type ServerTarget = (typeof serverTargets)[number]

const smallData = '{"t":"word"}'
const slowData = 'x'.repeat(1000)
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})

interface Target {
  /** Starts listening on 127.0.0.1, port 0. */
  listen(): Promise<Server>
  /** Sends `data` as one event to every idle stream. */
  broadcast(data: string): void | Promise<void>
  /** How many idle streams are open. */
  connections(): number
}

function memory() {
  gc()
  gc()
  const usage = process.memoryUsage()
  return {
    rss: usage.rss,
    heapUsed: usage.heapUsed,
    external: usage.external,
    arrayBuffers: usage.arrayBuffers,
    /** Committed bytes of each V8 heap space: shows where RSS went that `heapUsed` does not count. */
    spaces: Object.fromEntries(
      getHeapSpaceStatistics().map((space) => [space.space_name, space.space_size]),
    ),
  }
}

function queryNumber(request: { url?: string | undefined }, name: string, fallback: number) {
  const value = new URL(request.url ?? '/', 'http://127.0.0.1').searchParams.get(name)
  return value === null ? fallback : Number(value)
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function* smallEvents(count: number) {
  for (let index = 0; index < count; index++) yield { id: String(index), data: smallData }
}

/** Bytes the slow producer has generated so far (reported with `slow-done`). */
let producedBytes = 0

/** 1 KiB events at up to `rate` bytes/s for `seconds`: the producer that could run far ahead. */
async function* slowEvents(seconds: number, rate: number) {
  const started = performance.now()
  const deadline = started + seconds * 1000
  let bytes = 0
  let index = 0
  while (performance.now() < deadline) {
    const allowed = ((performance.now() - started) / 1000) * rate
    if (bytes > allowed) {
      await sleep(2)
      continue
    }
    bytes += slowData.length + 16
    producedBytes += slowData.length + 16
    yield { id: String(index++), data: slowData }
  }
}

/** Resolves on `drain`, or when the response closes, removing both listeners. */
function drained(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      response.off('drain', done)
      response.off('close', done)
      resolve()
    }
    response.on('drain', done)
    response.on('close', done)
  })
}

const plainHeaders = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
}

/** The seed's writer: a template string per event, `res.write`, await `drain`; a `Set` for broadcasts. */
function plainTarget(): Target {
  const clients = new Set<ServerResponse>()
  // One shared heartbeat for every connection (the cheapest a hand-written server can do).
  setInterval(() => {
    for (const response of clients) response.write(': ping\n\n')
  }, 15_000).unref()
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname
    response.writeHead(200, plainHeaders)
    response.flushHeaders()
    if (path === '/stream') {
      const count = queryNumber(request, 'n', 1000)
      for (let index = 0; index < count && !response.destroyed; index++) {
        if (!response.write(`id: ${index}\ndata: ${smallData}\n\n`)) await drained(response)
      }
      response.end()
    } else if (path === '/slow') {
      for await (const event of slowEvents(
        queryNumber(request, 'seconds', 1),
        queryNumber(request, 'rate', 1e6),
      )) {
        if (response.destroyed) break
        if (!response.write(`id: ${event.id}\ndata: ${event.data}\n\n`)) await drained(response)
      }
      response.end()
    } else {
      clients.add(response)
      response.on('close', () => clients.delete(response))
    }
  }
  return {
    listen: () => listenNode(createServer(handle)),
    broadcast(data) {
      const frame = `data: ${data}\n\n`
      for (const response of clients) response.write(frame)
    },
    connections: () => clients.size,
  }
}

function honoTarget(): Target {
  const streams = new Set<SSEStreamingApi>()
  const app = new Hono()
  app.get('/stream', (c) =>
    streamSSE(c, async (stream) => {
      const count = queryNumber(c.req, 'n', 1000)
      for (let index = 0; index < count && !stream.aborted; index++) {
        await stream.writeSSE({ id: String(index), data: smallData })
      }
    }),
  )
  app.get('/slow', (c) =>
    streamSSE(c, async (stream) => {
      for await (const event of slowEvents(
        queryNumber(c.req, 'seconds', 1),
        queryNumber(c.req, 'rate', 1e6),
      )) {
        if (stream.aborted) break
        await stream.writeSSE(event)
      }
    }),
  )
  app.get('/idle', (c) =>
    streamSSE(c, async (stream) => {
      streams.add(stream)
      await new Promise<void>((resolve) => stream.onAbort(resolve))
      streams.delete(stream)
    }),
  )
  return {
    listen: () => listenHono(app),
    broadcast(data) {
      for (const stream of streams) void stream.writeSSE({ data })
    },
    connections: () => streams.size,
  }
}

/**
 * Not an SSE library: a Hono route on @hono/node-server that holds the raw node response the way
 * the seed does (headers, then one write per broadcast). What Hono and node-server cost per
 * connection before any SSE code runs, so the floor under any Hono adapter (fan-out only).
 */
function honoFloorTarget(): Target {
  const clients = new Set<ServerResponse>()
  const app = new Hono()
  // The same hand-off to node-server as @ssekit/hono: a null-body Response it must not answer.
  const alreadySent = Object.freeze({ 'x-hono-already-sent': 'true' })
  app.get('/idle', (c) => {
    const response = (c.env as { outgoing: ServerResponse }).outgoing
    const placeholder = c.body(null, undefined, alreadySent)
    void placeholder.body
    setImmediate(() => {
      response.writeHead(200, plainHeaders)
      response.flushHeaders()
      clients.add(response)
      response.on('close', () => clients.delete(response))
    })
    return placeholder
  })
  return {
    listen: () => listenHono(app),
    broadcast(data) {
      const frame = `data: ${data}\n\n`
      for (const response of clients) response.write(frame)
    },
    connections: () => clients.size,
  }
}

function betterSseTarget(): Target {
  const channel = createChannel()
  // Data goes out as the same string as for everyone else, not JSON-encoded again.
  const options = { serializer: (data: unknown) => String(data) }
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname
    const session = await createSession(request, response, options)
    if (path === '/stream') {
      const count = queryNumber(request, 'n', 1000)
      // better-sse ignores write()'s return value; the loop adds the drain wait itself.
      for (let index = 0; index < count && session.isConnected; index++) {
        session.push(smallData, 'message', String(index))
        if (response.writableNeedDrain) await drained(response)
      }
      response.end()
    } else if (path === '/slow') {
      // better-sse's API has no backpressure: push() writes whatever the socket has not taken.
      for await (const event of slowEvents(
        queryNumber(request, 'seconds', 1),
        queryNumber(request, 'rate', 1e6),
      )) {
        if (!session.isConnected) break
        session.push(event.data, 'message', event.id)
      }
      response.end()
    } else {
      channel.register(session)
    }
  }
  return {
    listen: () => listenNode(createServer(handle)),
    broadcast(data) {
      channel.broadcast(data, 'message')
    },
    connections: () => channel.sessionCount,
  }
}

async function ssekitNodeTarget(): Promise<Target> {
  const node = await loadNode()
  if (!node.ok) throw new Error(node.reason)
  const { sendEventStream } = node.api
  const broadcaster = await createBroadcaster()
  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname
    if (path === '/stream') {
      void sendEventStream(request, response, smallEvents(queryNumber(request, 'n', 1000)))
    } else if (path === '/slow') {
      void sendEventStream(
        request,
        response,
        slowEvents(queryNumber(request, 'seconds', 1), queryNumber(request, 'rate', 1e6)),
      )
    } else {
      void sendEventStream(request, response, broadcaster.source)
    }
  }
  return {
    listen: () => listenNode(createServer(handle)),
    broadcast: (data) => broadcaster.broadcast(data),
    connections: () => broadcaster.connections(),
  }
}

async function ssekitHonoTarget(): Promise<Target> {
  const hono = await loadHono()
  if (!hono.ok) throw new Error(hono.reason)
  const { sse } = hono.api
  const broadcaster = await createBroadcaster()
  const app = new Hono()
  app.get('/stream', (c) => sse(c, smallEvents(queryNumber(c.req, 'n', 1000))))
  app.get('/slow', (c) =>
    sse(c, slowEvents(queryNumber(c.req, 'seconds', 1), queryNumber(c.req, 'rate', 1e6))),
  )
  app.get('/idle', (c) => sse(c, broadcaster.source))
  return {
    listen: () => listenHono(app),
    broadcast: (data) => broadcaster.broadcast(data),
    connections: () => broadcaster.connections(),
  }
}

/** Broadcasts for our adapters go through the product's in-memory hub (`createHub`). */
async function createBroadcaster() {
  const loaded = await loadHub()
  if (!loaded.ok) throw new Error(loaded.reason)
  const hub: Hub = loaded.api.createHub()
  return {
    // Nothing per connection beyond what the product needs: the count comes from the hub. As in the
    // README, the subscription needs no signal: the stream's end runs its return(), which unsubscribes.
    source: ({ lastEventId }: { lastEventId: string | undefined }): Source =>
      hub.subscribe('bench', { lastEventId }),
    broadcast: async (data: string) => {
      await hub.publish('bench', { data })
    },
    connections: () => hub.stats().subscribers,
  }
}

function listenNode(server: Server): Promise<Server> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

function listenHono(app: Hono): Promise<Server> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () =>
      resolve(server as Server),
    )
  })
}

async function createTarget(name: string): Promise<Target> {
  switch (name) {
    case 'plain':
      return plainTarget()
    case 'hono-streamSSE':
      return honoTarget()
    case 'better-sse':
      return betterSseTarget()
    case 'ssekit-node':
      return ssekitNodeTarget()
    case 'ssekit-hono':
      return ssekitHonoTarget()
    case 'hono-floor':
      return honoFloorTarget()
    default:
      throw new TypeError(`unknown server target ${name}: use one of ${serverTargets.join(', ')}`)
  }
}

async function main() {
  exitWithParent()
  const name = process.argv[2] ?? ''
  let target: Target
  try {
    target = await createTarget(name)
  } catch (error) {
    tell({ type: 'unavailable', reason: error instanceof Error ? error.message : String(error) })
    return
  }
  const server = await target.listen()
  server.keepAliveTimeout = 0
  server.requestTimeout = 0
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname
    const cpu = process.cpuUsage()
    const started = performance.now()
    if (path === '/stream') {
      response.on('close', () => {
        const used = process.cpuUsage(cpu)
        tell({
          type: 'stream-done',
          cpuMicros: used.user + used.system,
          ms: performance.now() - started,
        })
      })
    } else if (path === '/slow') {
      const baseline = memory()
      let peakRss = baseline.rss
      const sampler = setInterval(() => {
        peakRss = Math.max(peakRss, process.memoryUsage.rss())
      }, 100)
      const seconds = queryNumber(request, 'seconds', 1)
      setTimeout(() => {
        clearInterval(sampler)
        const after = memory()
        peakRss = Math.max(peakRss, after.rss)
        tell({ type: 'slow-done', baseline, peakRss, after, producedBytes })
      }, seconds * 1000).unref()
    }
  })
  process.on('message', async (message: { type: string; seq?: number; path?: string }) => {
    if (message.type === 'heap-snapshot' && message.path) {
      gc()
      gc()
      tell({ type: 'heap-snapshot', path: writeHeapSnapshot(message.path) })
    } else if (message.type === 'memory') {
      tell({ type: 'memory', ...memory(), connections: target.connections() })
    } else if (message.type === 'broadcast') {
      const sentAt = performance.timeOrigin + performance.now()
      await target.broadcast(`b${message.seq}:${sentAt}`)
      tell({ type: 'broadcast-sent', ms: performance.timeOrigin + performance.now() - sentAt })
    }
  })
  const address = server.address()
  tell({ type: 'ready', port: typeof address === 'object' && address ? address.port : 0 })
}

await main()
