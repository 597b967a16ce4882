import {
  type EventSourceContext,
  eventStreamHeaders,
  eventStreamResponse,
  lastEventIdFrom,
} from '@ssekit/core'
import { describe, expect, it } from 'vitest'
import { parseText, readText, startedGenerator, withTimeout } from './_helpers.ts'

describe('eventStreamResponse', () => {
  it('sets the event-stream headers and never a connection header', async () => {
    const response = eventStreamResponse([{ data: 'hi' }], { heartbeat: false })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(response.headers.get('cache-control')).toBe('no-cache, no-transform')
    expect(response.headers.get('x-accel-buffering')).toBe('no')
    expect(response.headers.has('connection')).toBe(false)
    expect(response.headers.has('transfer-encoding')).toBe(false)
    expect(await readText(response.body as ReadableStream<Uint8Array>)).toBe(':\n\ndata: hi\n\n')
  })

  it('takes a status and extra headers, and drops hop-by-hop ones', () => {
    const response = eventStreamResponse([], {
      status: 201,
      headers: {
        'Access-Control-Allow-Origin': '*',
        Connection: 'keep-alive',
        'Transfer-Encoding': 'chunked',
      },
    })
    expect(response.status).toBe(201)
    expect(response.headers.get('access-control-allow-origin')).toBe('*')
    expect(response.headers.get('content-type')).toBe(eventStreamHeaders['Content-Type'])
    expect(response.headers.has('connection')).toBe(false)
    expect(response.headers.has('transfer-encoding')).toBe(false)
  })

  it('answers a HEAD request with the headers alone and releases the source', async () => {
    const { source, finished } = await startedGenerator()
    const response = eventStreamResponse(source, {
      request: new Request('http://127.0.0.1/events', { method: 'HEAD' }),
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe(eventStreamHeaders['Content-Type'])
    expect(response.body).toBeNull()
    await withTimeout(
      (async () => {
        while (!finished()) await new Promise((resolve) => setTimeout(resolve, 5))
      })(),
      1000,
      "the source's finally",
    )
    let called = false
    eventStreamResponse(
      () => {
        called = true
        return []
      },
      { request: new Request('http://127.0.0.1/events', { method: 'HEAD' }) },
    )
    expect(called).toBe(false)
  })

  it('resumes from the request’s Last-Event-ID and ends when the request is aborted', async () => {
    const controller = new AbortController()
    const request = new Request('http://127.0.0.1/events', {
      headers: { 'Last-Event-ID': '7' },
      signal: controller.signal,
    })
    let finished = false
    const response = eventStreamResponse(
      async function* ({ lastEventId, signal }: EventSourceContext) {
        try {
          yield { id: String(Number(lastEventId) + 1), data: 'next' }
          await new Promise((resolve) => signal.addEventListener('abort', resolve))
        } finally {
          finished = true
        }
      },
      { request, heartbeat: false },
    )
    const reading = readText(response.body as ReadableStream<Uint8Array>)
    await new Promise((resolve) => setTimeout(resolve, 0))
    controller.abort()
    const parsed = parseText(await withTimeout(reading, 2_000, 'the stream ends on abort'))
    expect(parsed.events).toEqual([{ id: '8', event: undefined, data: 'next' }])
    expect(finished).toBe(true)
  })

  it('frozen headers object', () => {
    expect(Object.isFrozen(eventStreamHeaders)).toBe(true)
    expect(Object.keys(eventStreamHeaders).map((name) => name.toLowerCase())).not.toContain(
      'connection',
    )
  })
})

describe('lastEventIdFrom', () => {
  it('reads the header of a Request', () => {
    const request = new Request('http://x/events?lastEventId=1', {
      headers: { 'Last-Event-ID': 'abc' },
    })
    expect(lastEventIdFrom(request)).toBe('abc')
  })

  it('falls back to the lastEventId query parameter', () => {
    expect(lastEventIdFrom(new Request('http://x/events?lastEventId=5%206'))).toBe('5 6')
    expect(lastEventIdFrom(new Request('http://x/events?lastEventId='))).toBeUndefined()
    expect(lastEventIdFrom(new Request('http://x/events'))).toBeUndefined()
  })

  it('treats an empty header as none', () => {
    const request = new Request('http://x/events?lastEventId=9', {
      headers: { 'Last-Event-ID': '' },
    })
    expect(lastEventIdFrom(request)).toBe('9')
  })

  it('reads a node:http-shaped request (lower-case header object, path-only url)', () => {
    expect(lastEventIdFrom({ headers: { 'last-event-id': '3' }, url: '/events' })).toBe('3')
    expect(lastEventIdFrom({ headers: { 'last-event-id': ['4', '5'] } })).toBe('4')
    expect(lastEventIdFrom({ headers: { 'Last-Event-ID': '6' } })).toBe('6')
    expect(lastEventIdFrom({ headers: {}, url: '/events?x=1&lastEventId=12' })).toBe('12')
    expect(lastEventIdFrom({ headers: {}, url: '/events' })).toBeUndefined()
    expect(lastEventIdFrom({ headers: {} })).toBeUndefined()
  })
})
