import { createServer, type Server } from 'node:http'
import { sendEventStream } from '@ssekit/node'
import { pageHtml } from './page.ts'
import type { Ticker } from './ticker.ts'

/**
 * The ticker's HTTP server: `/` is the page, `/events` the event stream; nothing else.
 *
 * @example
 * ```ts
 * createTickerServer(createTicker()).listen(3000)
 * ```
 */
export function createTickerServer(ticker: Ticker): Server {
  return createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { Allow: 'GET, HEAD' }).end()
      return
    }
    if (path === '/') {
      response
        .writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache' })
        .end(pageHtml)
      return
    }
    if (path === '/events') {
      // A 2 s reconnection delay: quick enough for a ticker, and the page's history covers it.
      void sendEventStream(request, response, (context) => ticker.subscribe(context), {
        retry: 2_000,
      })
      return
    }
    response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n')
  })
}
