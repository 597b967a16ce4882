import type { EventStreamSource } from '@ssekit/core'
import { type NodeRequest, type NodeResponse, sendEventStream } from '@ssekit/node'
import type { Context } from 'hono'
import type { SseOptions } from './sse.ts'

/** The bindings `@hono/node-server` passes as `c.env`. */
interface NodeServerBindings {
  incoming: NodeRequest
  outgoing: NodeResponse
}

function nodeServerBindingsOf(c: Context): NodeServerBindings | undefined {
  const env: unknown = c.env
  if (typeof env !== 'object' || env === null) return undefined
  const { incoming, outgoing } = env as Partial<Record<'incoming' | 'outgoing', unknown>>
  if (
    typeof incoming === 'object' &&
    incoming !== null &&
    typeof (outgoing as { writeHead?: unknown } | undefined)?.writeHead === 'function'
  ) {
    return env as NodeServerBindings
  }
  return undefined
}

/** Headers the stream sets or forbids itself, never copied from `c.res`. */
const ownHeaders = new Set([
  'x-hono-already-sent',
  'content-type',
  'content-length',
  'transfer-encoding',
  'connection',
])

/** `@hono/node-server` writes nothing for a response with this header (its `RESPONSE_ALREADY_SENT`). */
const alreadySentHeader = 'x-hono-already-sent'

/**
 * On `@hono/node-server`, streams straight into the node response with `@ssekit/node` instead of
 * through a Web `ReadableStream` and the server's Response-to-node bridge: a stream then costs
 * what a node:http stream costs (about half the memory per idle connection, measured). Returns
 * `undefined` elsewhere, or when an option needs the Web path (a non-200 `status`).
 * @internal
 */
export function sendOnNodeServer(
  c: Context,
  source: EventStreamSource,
  options: SseOptions,
): Response | undefined {
  const bindings = nodeServerBindingsOf(c)
  if (bindings === undefined || (options.status !== undefined && options.status !== 200)) {
    return undefined
  }
  const { status: _status, headers: extraHeaders, ...streamOptions } = options
  const placeholder = c.body(null, {
    headers: { ...Object.fromEntries(new Headers(extraHeaders)), [alreadySentHeader]: 'true' },
  })
  // @hono/node-server writes a response it can answer from its own cache (null body, plain
  // headers) without looking for the header above; reading `body` turns it into a real Response.
  void placeholder.body
  // Start once the middleware chain has unwound, so headers middleware adds after `next()` (CORS,
  // secure headers) are on `c.res` and get sent with the stream's own.
  setTimeout(() => {
    const headers: Record<string, string> = {}
    for (const [name, value] of c.res.headers) {
      if (!ownHeaders.has(name)) headers[name] = value
    }
    sendEventStream(bindings.incoming, bindings.outgoing, source, {
      ...streamOptions,
      headers,
    }).catch((error: unknown) => {
      // Only a caller mistake (bad options) rejects here; the response is still unanswered.
      if (!bindings.outgoing.headersSent) {
        bindings.outgoing.writeHead(500)
        bindings.outgoing.end()
      }
      console.error('@ssekit/hono: could not start the event stream', error)
    })
  }, 0)
  return placeholder
}
