import { request as httpRequest, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { withTimeout } from '@ssekit/test-support'
import { afterEach, describe, expect, it } from 'vitest'
import { createTickerServer } from '../src/app.ts'
import { createTicker, type Ticker } from '../src/ticker.ts'

interface ParsedEvent {
  event: string
  id: string | undefined
  data: unknown
}

/** Reads `/events` until `count` events (comments skipped) arrived, then disconnects. */
function readEvents(
  url: string,
  count: number,
  headers: Record<string, string> = {},
  onEvent?: (event: ParsedEvent) => void,
): Promise<ParsedEvent[]> {
  return withTimeout(
    new Promise((resolve, reject) => {
      const events: ParsedEvent[] = []
      let buffer = ''
      const clientRequest = httpRequest(url, { headers, agent: false }, (response) => {
        response.setEncoding('utf8')
        response.on('data', (text: string) => {
          buffer += text
          for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
            const lines = buffer.slice(0, end).split('\n')
            buffer = buffer.slice(end + 2)
            const field = (name: string) =>
              lines.find((line) => line.startsWith(`${name}: `))?.slice(name.length + 2)
            const data = field('data')
            if (data === undefined) continue
            const event = {
              event: field('event') ?? 'message',
              id: field('id'),
              data: JSON.parse(data),
            }
            events.push(event)
            onEvent?.(event)
            if (events.length === count) {
              clientRequest.destroy()
              resolve(events)
            }
          }
        })
      })
      clientRequest.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ECONNRESET') reject(error)
      })
      clientRequest.end()
    }),
    5_000,
    `${count} events from ${url}`,
  )
}

function get(url: string): Promise<{ response: IncomingMessage; body: string }> {
  return withTimeout(
    new Promise((resolve, reject) => {
      httpRequest(url, { agent: false }, (response) => {
        let body = ''
        response.setEncoding('utf8')
        response.on('data', (text: string) => {
          body += text
        })
        response.on('end', () => resolve({ response, body }))
      })
        .on('error', reject)
        .end()
    }),
    5_000,
    `GET ${url}`,
  )
}

let ticker: Ticker | undefined
let closeServer: (() => Promise<void>) | undefined
afterEach(async () => {
  ticker?.stop()
  await closeServer?.()
})

async function start(historySize = 8): Promise<{ url: string; ticker: Ticker }> {
  const created = createTicker({ symbols: ['ACME', 'GLOBEX'], intervalMs: false, historySize })
  ticker = created
  const server = createTickerServer(created)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  closeServer = () =>
    new Promise((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, ticker: created }
}

describe('node-ticker', () => {
  it('serves the page with an EventSource on /events', async () => {
    const { url } = await start()
    const { response, body } = await get(`${url}/`)
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(body).toContain("new EventSource('/events')")
    expect(body).toContain('lastEventId')
    expect((await get(`${url}/nope`)).response.statusCode).toBe(404)
  })

  it('starts with a snapshot carrying the current id, then live price events', async () => {
    const { url, ticker } = await start()
    ticker.tick()
    // Prices move only once the snapshot arrived, so what follows it must come live.
    const [snapshot, first, second] = await readEvents(`${url}/events`, 3, {}, (event) => {
      if (event.event === 'snapshot') ticker.tick()
    })
    expect(snapshot?.event).toBe('snapshot')
    expect(snapshot?.id).toMatch(/-2$/)
    expect(snapshot?.data).toMatchObject({
      prices: { ACME: expect.any(Number), GLOBEX: expect.any(Number) },
    })
    expect([first?.event, second?.event]).toEqual(['price', 'price'])
    expect([first?.id, second?.id].map((id) => id?.split('-')[1])).toEqual(['3', '4'])
    expect(first?.data).toMatchObject({ symbol: 'ACME' })
  })

  it('replays exactly what a client missed after its Last-Event-ID, then goes live', async () => {
    const { url, ticker } = await start()
    ticker.tick()
    const [snapshot] = await readEvents(`${url}/events`, 1)
    ticker.tick()
    ticker.tick()
    const missed = await readEvents(`${url}/events`, 4, { 'Last-Event-ID': snapshot?.id ?? '' })
    expect(missed.map((event) => event.event)).toEqual(['price', 'price', 'price', 'price'])
    const sequences = missed.map((event) => Number(event.id?.split('-')[1]))
    expect(sequences).toEqual([3, 4, 5, 6])
    // The same through the query parameter, for clients that cannot set the header.
    const viaQuery = await readEvents(`${url}/events?lastEventId=${missed[1]?.id}`, 2)
    expect(viaQuery.map((event) => Number(event.id?.split('-')[1]))).toEqual([5, 6])
  })

  it('sends a reset event and a snapshot when the id is too old or unknown', async () => {
    const { url, ticker } = await start(4)
    ticker.tick()
    const [snapshot] = await readEvents(`${url}/events`, 1)
    for (let index = 0; index < 5; index++) ticker.tick()
    const tooOld = await readEvents(`${url}/events`, 2, { 'Last-Event-ID': snapshot?.id ?? '' })
    expect(tooOld[0]).toMatchObject({ event: 'reset', data: { reason: 'too-old' } })
    expect(tooOld[1]?.event).toBe('snapshot')
    expect(tooOld[1]?.id).toMatch(/-12$/)
    const unknown = await readEvents(`${url}/events`, 2, { 'Last-Event-ID': 'abc-3' })
    expect(unknown[0]).toMatchObject({ event: 'reset', data: { reason: 'unknown-id' } })
    expect(unknown[1]?.event).toBe('snapshot')
  })
})
