/**
 * Server-Sent Events on Fastify: `reply.hijack()` hands the raw response to `sendEventStream`,
 * and the stream's `onOpen` / `onClose` hooks log through Fastify's own pino logger.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { closeEventStreams, sendEventStream } from '@ssekit/node'
import Fastify from 'fastify'

const port = Number(process.env['PORT'] ?? 3002)
const fastify = Fastify({ logger: true })

fastify.get('/', async () => 'GET /events streams a tick a second\n')

fastify.get('/events', (request, reply) => {
  // Fastify must not answer this request itself: ssekit writes the response.
  reply.hijack()
  void sendEventStream(
    request.raw,
    reply.raw,
    async function* ticker({ signal, lastEventId }) {
      let id = Number(lastEventId) || 0
      while (!signal.aborted) {
        yield { event: 'tick', id: String(++id), data: { id, at: new Date().toISOString() } }
        await sleep(1000, undefined, { signal }).catch(() => {})
      }
    },
    {
      retry: 2000,
      onOpen: ({ lastEventId }) => request.log.info({ lastEventId }, 'event stream open'),
      onClose: ({ reason, events, bytes, durationMs }) =>
        request.log.info({ reason, events, bytes, durationMs }, 'event stream closed'),
    },
  )
})

await fastify.listen({ host: '127.0.0.1', port })

async function shutdown(): Promise<void> {
  // Streams first: fastify.close() waits for every open connection to end.
  const closing = fastify.close()
  await closeEventStreams({ graceMs: 3000 })
  await closing
  process.exit(0)
}
process.once('SIGINT', shutdown)
process.once('SIGTERM', shutdown)
