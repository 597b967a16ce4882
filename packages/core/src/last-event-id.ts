/**
 * What {@link lastEventIdFrom} reads: a Fetch `Request`, or anything with `headers` (a `Headers`
 * or a node:http header object) and a `url` (absolute, or a path as node:http gives it).
 *
 * @example
 * ```ts
 * import { lastEventIdFrom, type RequestLike } from '@ssekit/core'
 *
 * const request: RequestLike = { headers: { 'last-event-id': '42' }, url: '/events' }
 * lastEventIdFrom(request) // '42'
 * ```
 * @public
 */
export interface RequestLike {
  headers:
    | { get(name: string): string | null }
    | Readonly<Record<string, string | readonly string[] | undefined>>
  url?: string | undefined
}

/**
 * The id of the last event a reconnecting client saw: the `Last-Event-ID` header a browser's
 * `EventSource` sends, else a `lastEventId` query parameter (for clients that cannot set headers
 * on their first connection). An empty value counts as none.
 *
 * @param request - A Fetch `Request`, a node:http `IncomingMessage`, or anything shaped like them.
 * @returns The id, or `undefined` when the client sent none.
 * @example
 * ```ts
 * import { lastEventIdFrom } from '@ssekit/core'
 *
 * lastEventIdFrom(new Request('https://example.com/events', { headers: { 'Last-Event-ID': '42' } })) // '42'
 * lastEventIdFrom(new Request('https://example.com/events?lastEventId=7')) // '7'
 * ```
 * @public
 */
export function lastEventIdFrom(request: RequestLike): string | undefined {
  const header = headerValue(request.headers)
  if (header) return header
  const url = request.url
  if (url === undefined || !url.includes('lastEventId=')) return undefined
  let parsed: URL
  try {
    // A node:http request has only the path; any base works for reading the query.
    parsed = new URL(url, 'http://localhost')
  } catch {
    return undefined
  }
  return parsed.searchParams.get('lastEventId') || undefined
}

function headerValue(headers: RequestLike['headers']): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null }).get('last-event-id') ?? undefined
  }
  // node:http lower-cases header names; a hand-made object may not.
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>
  const value = record['last-event-id'] ?? record['Last-Event-ID']
  return typeof value === 'string' ? value : value?.[0]
}
