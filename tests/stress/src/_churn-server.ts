// A child process serving hub subscriptions over node:http (`sendEventStream`) or Hono on
// @hono/node-server (`sse`), counting every stream and subscription through the hooks, and
// measuring its own heap after a full GC when asked.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { createHub, type EventStreamHooks, lastEventIdFrom } from '@ssekit/core'
import { sse } from '@ssekit/hono'
import { sendEventStream } from '@ssekit/node'
import { Hono } from 'hono'
import { activeResources, onCommand, say, settledHeap } from './_child.ts'

const kind = process.env['KIND'] ?? 'node'
const counts = { opened: 0, closed: 0, subscribed: 0, unsubscribed: 0 }
const hub = createHub({
  // Small, so history is full (and stays the same size) before the baseline is measured.
  history: { maxEvents: 64 },
  onSubscribe: () => void counts.subscribed++,
  onUnsubscribe: () => void counts.unsubscribed++,
})
const hooks: EventStreamHooks & { heartbeat: number } = {
  heartbeat: 1_000,
  onOpen: () => void counts.opened++,
  onClose: () => void counts.closed++,
}

let port: number
if (kind === 'hono') {
  const app = new Hono()
  app.get('/events', (c) =>
    sse(
      c,
      hub.subscribe('churn', {
        lastEventId: lastEventIdFrom(c.req.raw),
        signal: c.req.raw.signal,
        request: c.req.raw,
      }),
      hooks,
    ),
  )
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' })
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  port = (server.address() as AddressInfo).port
} else {
  const server = createServer((request, response) => {
    const controller = new AbortController()
    response.once('close', () => controller.abort())
    void sendEventStream(
      request,
      response,
      hub.subscribe('churn', {
        lastEventId: lastEventIdFrom(request),
        signal: controller.signal,
        request,
      }),
      hooks,
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port
}

// Live traffic during the churn, so that streams also die while events are in flight.
const publisher = setInterval(() => void hub.publish('churn', { data: 'tick' }), 5)

onCommand(async (command) => {
  if (command.type === 'measure') {
    const heap = await settledHeap()
    say({
      type: 'measure',
      ...heap,
      ...counts,
      subscribers: hub.stats().subscribers,
      topics: hub.stats().topics,
      resources: activeResources(),
    })
  } else if (command.type === 'stop') {
    clearInterval(publisher)
    await hub.close()
    process.exit(0)
  }
})
say({ type: 'ready', port })
