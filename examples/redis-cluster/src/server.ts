/**
 * One of the cluster's processes: `GET /events` subscribes to the topic `news` on the Redis hub,
 * `POST /publish` publishes to it. Every process behind the same Redis shares the topic, its
 * history and its ids, so a client resumes on any of them with `Last-Event-ID`.
 */
import { createServer } from 'node:http'
import { lastEventIdFrom } from '@ssekit/core'
import { closeEventStreams, sendEventStream } from '@ssekit/node'
import { createRedisHub } from '@ssekit/redis'

const port = Number(process.env['PORT'] ?? 3011)
const name = `:${port}`
const hub = await createRedisHub({
  url: process.env['REDIS_URL'],
  prefix: 'ssekit-cluster:',
  onBackendError: (error) => console.error(`${name} redis: ${error.message}`),
})

const server = createServer(async (request, response) => {
  const url = new URL(request.url ?? '/', 'http://localhost')
  if (request.method === 'GET' && url.pathname === '/events') {
    const lastEventId = lastEventIdFrom(request)
    const events = hub.subscribe('news', { lastEventId })
    // Live before the headers go out: a client that sees the response open misses nothing.
    await events.ready
    await sendEventStream(request, response, events, {
      onOpen: () => console.log(`${name} stream open (Last-Event-ID ${lastEventId ?? 'none'})`),
    })
    return
  }
  if (request.method === 'POST' && url.pathname === '/publish') {
    let text = ''
    for await (const chunk of request) {
      text += chunk
      if (text.length > 4096) return void response.writeHead(413).end()
    }
    const id = await hub.publish('news', { event: 'news', data: { text, from: name } })
    response.writeHead(200, { 'content-type': 'application/json' })
    return void response.end(JSON.stringify({ id, from: name }))
  }
  response.writeHead(404).end()
})
server.listen(port, '127.0.0.1', () =>
  console.log(`${name} listening (hub on ${process.env['REDIS_URL']})`),
)

async function shutdown(): Promise<void> {
  server.close()
  await closeEventStreams({ graceMs: 2000 })
  await hub.close()
  process.exit(0)
}
process.once('SIGINT', shutdown)
process.once('SIGTERM', shutdown)
