// A child process: an SSE server on a fixed port serving a Redis hub's topics over node:http.
// The faults test SIGKILLs it mid-stream and starts it again; on `{ type: 'shutdown' }` it runs
// closeEventStreams and reports what that did.
import { createServer } from 'node:http'
import { lastEventIdFrom } from '@ssekit/core'
import { closeEventStreams, sendEventStream } from '@ssekit/node'
import { createRedisHub } from '@ssekit/redis'
import { onCommand, say } from './_child.ts'

const port = Number(process.env['PORT'])
const hub = await createRedisHub({
  url: process.env['REDIS_URL'] as string,
  prefix: process.env['PREFIX'] as string,
})
let opened = 0
const server = createServer((request, response) => {
  const topic = new URL(request.url ?? '/', 'http://localhost').searchParams.get('topic') ?? 'feed'
  const controller = new AbortController()
  response.once('close', () => controller.abort())
  const subscription = hub.subscribe(topic, {
    lastEventId: lastEventIdFrom(request),
    signal: controller.signal,
  })
  subscription.ready.then(
    () => {
      opened++
      void sendEventStream(request, response, subscription, { heartbeat: 5_000 })
    },
    () => response.writeHead(503).end(),
  )
})
server.listen(port, '127.0.0.1', () => say({ type: 'ready', port }))

onCommand(async (command) => {
  if (command.type === 'stats') say({ type: 'stats', opened, ...hub.stats() })
  if (command.type === 'shutdown') {
    server.close()
    const started = Date.now()
    const result = await closeEventStreams({
      graceMs: command['graceMs'] as number,
      retry: command['retry'] as number,
      retryJitter: command['retryJitter'] as number,
    })
    say({ type: 'shutdown', ...result, elapsedMs: Date.now() - started })
    await hub.close()
    process.exit(0)
  }
})
