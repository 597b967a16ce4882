import { isGone, type ResponseTarget } from './_response-stream.ts'
import type { NodeRequest, NodeResponse } from './send-event-stream.ts'

/** Options of {@link createConnectionLimit}. @public */
export interface ConnectionLimitOptions {
  /** The most event streams one key may hold open at once. */
  max: number
  /**
   * What a request counts against: a user id, an API key, an IP. Return `undefined` to let the
   * request through uncounted.
   * @defaultValue the client's IP address (`request.socket.remoteAddress`)
   */
  key?: ((request: NodeRequest) => string | undefined) | undefined
  /**
   * Seconds sent as `Retry-After` with the 429, so that a client that retries (ssekit's
   * `fetchEventStream` does, honouring it) waits instead of hammering.
   * @defaultValue 5
   */
  retryAfter?: number | undefined
}

/** A cap on open event streams per key; see {@link createConnectionLimit}. @public */
export interface ConnectionLimit {
  /**
   * Counts the request against its key. Returns `true` when it fits: the slot is freed when the
   * response closes, however it ends. Returns `false` after answering
   * `429 Too Many Requests` (with `Retry-After`) when the key is at its cap, and `false` without
   * answering or counting anything when the client has already left (there is nothing to stream to).
   * `key` overrides the `key` option for this request (when it is known only after auth, say).
   */
  admit(request: NodeRequest, response: NodeResponse, key?: string | undefined): boolean
  /** Streams open now under `key`. */
  count(key: string): number
  /** Keys with at least one open stream. */
  readonly keys: number
}

/**
 * Caps how many event streams each key (a user, an IP) holds open, so that one client cannot take
 * every socket and every subscriber slot. A request over the cap gets a plain
 * `429 Too Many Requests` with `Retry-After`, before any stream starts: ssekit's
 * `fetchEventStream` then waits that long before it retries, and a browser `EventSource` stops
 * (it does not retry a non-200 answer), which is what a client over its cap should do.
 *
 * Counts live in this process; behind a load balancer each process enforces its own cap.
 *
 * @param options - `max` per key, the `key` of a request, `retryAfter` seconds.
 * @returns the limiter; call `admit(request, response)` before `sendEventStream`.
 * @throws TypeError when `max` or `retryAfter` is not a positive whole number, or `key` not a function.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http'
 * import { createConnectionLimit, sendEventStream } from '@ssekit/node'
 *
 * const perUser = createConnectionLimit({
 *   max: 5,
 *   key: (request) => String(request.headers['x-user-id'] ?? request.socket.remoteAddress),
 * })
 *
 * createServer((request, response) => {
 *   if (!perUser.admit(request, response)) return // answered 429
 *   sendEventStream(request, response, hub.subscribe('news', { signal: abortOn(response) }))
 * }).listen(3000)
 * ```
 * @public
 */
export function createConnectionLimit(options: ConnectionLimitOptions): ConnectionLimit {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('createConnectionLimit(options) needs an options object such as { max: 5 }')
  }
  const { max, key = remoteAddressOf, retryAfter = 5 } = options
  if (!(Number.isSafeInteger(max) && max > 0)) {
    throw new TypeError(
      `createConnectionLimit: \`max\` must be a positive whole number of streams per key; got ${String(max)}`,
    )
  }
  if (!(Number.isSafeInteger(retryAfter) && retryAfter > 0)) {
    throw new TypeError(
      `createConnectionLimit: \`retryAfter\` must be a positive whole number of seconds; got ${String(retryAfter)}`,
    )
  }
  if (typeof key !== 'function') {
    throw new TypeError(
      'createConnectionLimit: `key` must be a function of the request, such as (request) => request.socket.remoteAddress',
    )
  }
  const open = new Map<string, number>()

  return {
    admit(request, response, explicitKey) {
      // The client may have left while the application awaited something (auth, say) before
      // calling us: the response's 'close' has fired already, so a slot counted now would never
      // be freed, and there is no one to answer a 429 to.
      if (isGone(request, response as unknown as ResponseTarget)) return false
      const slot = explicitKey ?? key(request)
      if (slot === undefined) return true
      const current = open.get(slot) ?? 0
      if (current >= max) {
        const body = `Too many open event streams for this client (the limit is ${max})\n`
        response.writeHead(429, {
          'content-type': 'text/plain; charset=utf-8',
          'content-length': String(Buffer.byteLength(body)),
          'retry-after': String(retryAfter),
          'cache-control': 'no-store',
        })
        response.end(body)
        return false
      }
      open.set(slot, current + 1)
      // 'close' fires once however the response ends: finished, destroyed, or the client left.
      ;(response as { once(event: 'close', listener: () => void): unknown }).once('close', () => {
        const left = (open.get(slot) ?? 1) - 1
        if (left === 0) open.delete(slot)
        else open.set(slot, left)
      })
      return true
    },
    count(slot) {
      return open.get(slot) ?? 0
    },
    get keys() {
      return open.size
    },
  }
}

function remoteAddressOf(request: NodeRequest): string | undefined {
  return request.socket?.remoteAddress
}
