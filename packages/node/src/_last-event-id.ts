import type { IncomingMessage } from 'node:http'
import type { Http2ServerRequest } from 'node:http2'

/**
 * The `Last-Event-ID` request header, else the `lastEventId` query parameter (for clients that
 * cannot set headers on a reconnect they start themselves), else `undefined`. The same rule as
 * core's `lastEventIdFrom`, read from a node request without building a Web `Request`.
 * @internal
 */
export function lastEventIdOf(request: IncomingMessage | Http2ServerRequest): string | undefined {
  const header = request.headers['last-event-id']
  const value = Array.isArray(header) ? header[0] : header
  if (value !== undefined && value !== '') return value
  const url = request.url
  const queryStart = url?.indexOf('?') ?? -1
  if (url === undefined || queryStart === -1) return undefined
  const fromQuery = new URLSearchParams(url.slice(queryStart + 1)).get('lastEventId')
  return fromQuery === null || fromQuery === '' ? undefined : fromQuery
}
