/**
 * Server-Sent Events with Hono on Node: the same `sse(c, source)` route runs unchanged on
 * Cloudflare Workers, Bun and Deno (see examples/workers).
 */
import { serve } from '@hono/node-server'
import { sse } from '@ssekit/hono'
import { Hono } from 'hono'

const port = Number(process.env['PORT'] ?? 3003)
const app = new Hono()

app.get('/', (c) => c.text('GET /events streams a tick a second\n'))

app.get('/events', (c) =>
  sse(
    c,
    async function* ticker({ signal, lastEventId }) {
      let id = Number(lastEventId) || 0
      while (!signal.aborted) {
        yield { event: 'tick', id: String(++id), data: { id, at: new Date().toISOString() } }
        await new Promise((resolve) => setTimeout(resolve, 1000))
      }
    },
    {
      retry: 2000,
      onClose: ({ reason, events }) => console.log(`stream ${reason} after ${events} events`),
    },
  ),
)

const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port }, ({ port }) => {
  console.log(`Hono on http://127.0.0.1:${port}: try  curl -N http://127.0.0.1:${port}/events`)
})

function shutdown(): void {
  server.close()
  process.exit(0)
}
process.once('SIGINT', shutdown)
process.once('SIGTERM', shutdown)
