import type { IncomingMessage, ServerResponse } from 'node:http'
import { type Hub, lastEventIdFrom, SseError } from '@ssekit/core'
import type { ConnectionLimit, SendEventStreamOptions } from '@ssekit/node'
import { sendEventStream } from '@ssekit/node'
import { type LoopbackServer, startServer } from './_loopback-server.ts'

/** The user a request claims to be (tests stand an auth layer in with a header). */
export function userOf(request: unknown): string | undefined {
  const header = (request as IncomingMessage).headers['x-user']
  return typeof header === 'string' ? header : undefined
}

/**
 * Serves `GET /?topic=<topic>` as a hub subscription over `sendEventStream`: 403 when `authorize`
 * refuses, 429 when `limit` does, the client's `Last-Event-ID` (or `?lastEventId=`) resumed.
 */
export function serveHub(
  hub: Hub,
  options: {
    limit?: ConnectionLimit | undefined
    stream?: SendEventStreamOptions | undefined
  } = {},
): Promise<LoopbackServer> {
  return startServer((request, response) => void handle(hub, request, response, options))
}

async function handle(
  hub: Hub,
  request: IncomingMessage,
  response: ServerResponse,
  options: { limit?: ConnectionLimit | undefined; stream?: SendEventStreamOptions | undefined },
): Promise<void> {
  const topic = new URL(request.url ?? '/', 'http://localhost').searchParams.get('topic') ?? ''
  if (options.limit !== undefined && !options.limit.admit(request, response)) return
  const controller = new AbortController()
  response.once('close', () => controller.abort())
  const subscription = hub.subscribe(topic, {
    lastEventId: lastEventIdFrom(request),
    request,
    signal: controller.signal,
  })
  try {
    await subscription.ready
  } catch (error) {
    const status = SseError.isInstance(error) && error.code === 'unauthorized' ? 403 : 503
    response.writeHead(status, { 'content-type': 'text/plain' }).end(String(status))
    return
  }
  await sendEventStream(request, response, subscription, { heartbeat: false, ...options.stream })
}
