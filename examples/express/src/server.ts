/**
 * Server-Sent Events on Express 5, with `compression()` on every route. The stream still arrives
 * event by event: ssekit sends `Cache-Control: no-transform` (which `compression()` honours) and
 * calls `response.flush()` after each write when a compressor is in the way.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { closeEventStreams, sendEventStream } from '@ssekit/node'
import compression from 'compression'
import express from 'express'

const port = Number(process.env['PORT'] ?? 3001)
const app = express()
app.use(compression())

app.get('/', (_request, response) => {
  response
    .type('text/plain')
    .send(
      'GET /events streams a tick a second (compression() runs on every route; never on the stream)\n',
    )
})

app.get('/events', (request, response) => {
  void sendEventStream(
    request,
    response,
    async function* ticker({ signal, lastEventId }) {
      // A reconnecting client sends the last id it saw; carry on after it.
      let id = Number(lastEventId) || 0
      while (!signal.aborted) {
        yield { event: 'tick', id: String(++id), data: { id, at: new Date().toISOString() } }
        await sleep(1000, undefined, { signal }).catch(() => {})
      }
    },
    { retry: 2000 },
  )
})

const server = app.listen(port, '127.0.0.1', () => {
  console.log(
    `Express on http://127.0.0.1:${port}: try  curl -N --compressed http://127.0.0.1:${port}/events`,
  )
})

async function shutdown(): Promise<void> {
  server.close()
  const { closed, destroyed } = await closeEventStreams({ graceMs: 3000 })
  console.log(`closed ${closed} streams, destroyed ${destroyed}`)
  process.exit(0)
}
process.once('SIGINT', shutdown)
process.once('SIGTERM', shutdown)
