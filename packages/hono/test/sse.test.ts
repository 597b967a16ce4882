import { createHub, type EventStreamSummary, type SseEvent } from '@ssekit/core'
import { sse } from '@ssekit/hono'
import { deferred, frameReader, waitFor, withTimeout } from '@ssekit/test-support'
import { Hono } from 'hono'
import { compress } from 'hono/compress'
import { setCookie } from 'hono/cookie'
import { cors } from 'hono/cors'
import { describe, expect, test } from 'vitest'
import { serveApp } from './_helpers.ts'

describe('sse()', () => {
  test('answers with the core headers and no hop-by-hop headers', async () => {
    const app = new Hono()
    app.get('/events', (c) => sse(c, [{ data: 'one' }]))
    const response = await app.request('/events')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
    expect(response.headers.get('cache-control')).toBe('no-cache, no-transform')
    expect(response.headers.get('x-accel-buffering')).toBe('no')
    expect(response.headers.get('connection')).toBeNull()
    expect(response.headers.get('transfer-encoding')).toBeNull()
    expect(await response.text()).toContain('data: one\n\n')
  })

  test('refuses a first argument that is not a Hono Context, saying what to pass', () => {
    const misuse = sse as unknown as (...values: unknown[]) => Response
    expect(() => misuse([{ data: 'x' }])).toThrow(TypeError)
    expect(() => misuse(new Request('http://localhost/'), [])).toThrow(/Hono Context/)
  })

  test('keeps headers that middleware set before it', async () => {
    const app = new Hono()
    app.use(cors({ origin: 'https://app.example' }))
    app.use(async (c, next) => {
      c.header('x-request-id', 'abc')
      await next()
    })
    app.get('/events', (c) => sse(c, [{ data: 'one' }]))
    const response = await app.request('/events', { headers: { origin: 'https://app.example' } })
    expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(response.headers.get('x-request-id')).toBe('abc')
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
  })

  test('on @hono/node-server, keeps headers middleware sets before and after it', async () => {
    const app = new Hono()
    app.use(cors({ origin: 'https://app.example' }))
    app.use(async (c, next) => {
      c.header('x-before', 'yes')
      await next()
      c.res.headers.set('x-after', 'yes')
    })
    app.get('/events', (c) => sse(c, [{ data: 'one' }], { headers: { 'x-option': 'yes' } }))
    await using server = await serveApp(app)
    const response = await fetch(`${server.origin}/events`, {
      headers: { origin: 'https://app.example' },
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(response.headers.get('x-before')).toBe('yes')
    expect(response.headers.get('x-after')).toBe('yes')
    expect(response.headers.get('x-option')).toBe('yes')
    expect(response.headers.get('x-hono-already-sent')).toBeNull()
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
    expect(response.headers.get('cache-control')).toBe('no-cache, no-transform')
    expect(await withTimeout(response.text(), 5000, 'body')).toBe(':\n\ndata: one\n\n')
  })

  test('on @hono/node-server without middleware, keeps the headers the handler set', async () => {
    const app = new Hono()
    app.get('/events', (c) => {
      c.header('x-handler', 'yes')
      return sse(c, [{ data: 'one' }])
    })
    app.get('/with-option', (c) => sse(c, [{ data: 'two' }], { headers: [['x-option', 'yes']] }))
    await using server = await serveApp(app)
    const response = await fetch(`${server.origin}/events`)
    expect(response.headers.get('x-handler')).toBe('yes')
    expect(response.headers.get('x-hono-already-sent')).toBeNull()
    expect(await withTimeout(response.text(), 5000, 'body')).toBe(':\n\ndata: one\n\n')
    const withOption = await fetch(`${server.origin}/with-option`)
    expect(withOption.headers.get('x-option')).toBe('yes')
    expect(await withTimeout(withOption.text(), 5000, 'body')).toBe(':\n\ndata: two\n\n')
  })

  test('on @hono/node-server, sends every Set-Cookie, from setCookie() and from options.headers', async () => {
    const app = new Hono()
    app.get('/events', (c) => {
      setCookie(c, 'session', 'abc')
      setCookie(c, 'theme', 'dark')
      const headers = new Headers()
      headers.append('set-cookie', 'a=1')
      headers.append('set-cookie', 'b=2')
      return sse(c, [{ data: 'one' }], { headers })
    })
    await using server = await serveApp(app)
    const response = await fetch(`${server.origin}/events`)
    const cookies = response.headers.getSetCookie().map((cookie) => cookie.split(';')[0])
    expect(cookies.sort()).toEqual(['a=1', 'b=2', 'session=abc', 'theme=dark'])
    expect(await response.text()).toContain('data: one\n\n')
  })

  test('bad options or sources answer 500 on @hono/node-server, and the server lives on', async () => {
    const app = new Hono()
    app.get('/bad-option', (c) => sse(c, [{ data: 'x' }], { heartbeat: -1 }))
    app.get('/bad-source', (c) => sse(c, 42 as unknown as SseEvent[]))
    app.get('/fine', (c) => sse(c, [{ data: 'still serving' }]))
    await using server = await serveApp(app)
    for (const path of ['/bad-option', '/bad-source']) {
      const response = await withTimeout(fetch(`${server.origin}${path}`), 5000, path)
      expect(response.status).toBe(500)
      await response.body?.cancel()
    }
    const fine = await fetch(`${server.origin}/fine`)
    expect(await withTimeout(fine.text(), 5000, 'body')).toContain('data: still serving')
  })

  test('a source function that throws ends the stream without its message', async () => {
    const app = new Hono()
    app.get('/events', (c) =>
      sse(c, () => {
        throw new Error('password=hunter2')
      }),
    )
    await using server = await serveApp(app)
    const body = await withTimeout((await fetch(`${server.origin}/events`)).text(), 5000, 'body')
    expect(body).not.toContain('hunter2')
  })

  test('a non-200 status takes the Web path on every server', async () => {
    const app = new Hono()
    app.get('/events', (c) => sse(c, [{ data: 'one' }], { status: 201 }))
    await using server = await serveApp(app)
    const response = await fetch(`${server.origin}/events`)
    expect(response.status).toBe(201)
    expect(await withTimeout(response.text(), 5000, 'body')).toContain('data: one\n\n')
  })

  test('passes the stream options through (retry first, then heartbeats)', async () => {
    const app = new Hono()
    app.get('/events', (c) =>
      sse(
        c,
        async function* ({ signal }) {
          await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))
          yield* []
        },
        { retry: 1234, heartbeat: 50 },
      ),
    )
    await using server = await serveApp(app)
    const response = await fetch(`${server.origin}/events`)
    const frames = frameReader(response.body)
    try {
      expect(await frames.next('opening frame')).toBe('retry: 1234')
      expect(await frames.next('a heartbeat')).toMatch(/^:/)
    } finally {
      await frames.cancel()
    }
  })

  test('a source error ends the stream without sending its message', async () => {
    const closed = deferred<EventStreamSummary>()
    const app = new Hono()
    app.get('/events', (c) =>
      sse(
        c,
        async function* () {
          yield { data: 'before' }
          throw new Error('SELECT * FROM users failed: password=hunter2')
        },
        { onClose: closed.resolve },
      ),
    )
    app.get('/with-final', (c) =>
      sse(
        c,
        // biome-ignore lint/correctness/useYield: a source that fails before its first event
        async function* (): AsyncGenerator<SseEvent> {
          throw new Error('password=hunter2')
        },
        { onError: () => ({ event: 'error', data: 'try again later' }) },
      ),
    )
    await using server = await serveApp(app)
    const body = await withTimeout((await fetch(`${server.origin}/events`)).text(), 5000, 'body')
    expect(body).toContain('data: before\n\n')
    expect(body).not.toContain('hunter2')
    const summary = await withTimeout(closed.promise, 5000, 'onClose')
    expect(summary.reason).toBe('error')
    expect((summary.error as Error).message).toContain('hunter2')

    const final = await withTimeout(
      (await fetch(`${server.origin}/with-final`)).text(),
      5000,
      'body',
    )
    expect(final).toContain('event: error\ndata: try again later\n\n')
    expect(final).not.toContain('hunter2')
  })

  test('the options signal ends the stream (reason abort)', async () => {
    const controller = new AbortController()
    const closed = deferred<EventStreamSummary>()
    const app = new Hono()
    app.get('/events', (c) =>
      sse(
        c,
        async function* ({ signal }) {
          yield { data: 'first' }
          await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))
        },
        { signal: controller.signal, onClose: closed.resolve },
      ),
    )
    await using server = await serveApp(app)
    const response = await fetch(`${server.origin}/events`)
    const frames = frameReader(response.body)
    expect(await frames.next('opening comment')).toBe(':')
    expect(await frames.next('first event')).toBe('data: first')
    controller.abort()
    expect((await withTimeout(closed.promise, 5000, 'onClose')).reason).toBe('abort')
    expect(await frames.rest('end of body')).toBe('')
  })
})

describe('sse() answering HEAD', () => {
  // One test per path: @hono/node-server (the node adapter), and app.request (the Web path, as on
  // Workers, Bun and Deno).
  test.each([
    [
      'on @hono/node-server',
      async (app: Hono) => {
        await using server = await serveApp(app)
        // Awaited here: the server closes when this function returns.
        return await fetch(`${server.origin}/news`, { method: 'HEAD' })
      },
    ],
    ['on the Web path', async (app: Hono) => app.request('/news', { method: 'HEAD' })],
  ])('%s answers the headers and releases a source that already exists', async (_, head) => {
    const hub = createHub({ queue: { policy: 'drop-oldest' } })
    const app = new Hono()
    app.get('/news', (c) => sse(c, hub.subscribe('news')))
    try {
      const response = await withTimeout(head(app), 5000, 'the HEAD response')
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
      await waitFor(() => hub.stats().subscribers === 0, 2000, 'the subscription is returned')
    } finally {
      await withTimeout(hub.close(), 2000, 'hub.close()')
    }
  })
})

describe('Hono compress() and sse()', () => {
  // compress() skips text/event-stream by default (honojs/hono #3833); an app whose filter lets it
  // through (the second case) is protected by `Cache-Control: no-transform` alone. Without it,
  // that case fails: the response is gzipped and the first frame never arrives.
  test.each([
    ['compress()', compress({ threshold: 0 })],
    [
      'compress() with a filter that accepts every type',
      compress({ threshold: 0, contentTypeFilter: () => true }),
    ],
  ])(
    '%s does not hold events back: each arrives before the next is produced',
    async (_name, middleware) => {
      const steps = [deferred(), deferred(), deferred()]
      const app = new Hono()
      app.use(middleware)
      app.get('/events', (c) =>
        sse(c, async function* () {
          for (const [index, step] of steps.entries()) {
            await step.promise
            yield { id: String(index + 1), data: `event ${index + 1}` }
          }
        }),
      )
      await using server = await serveApp(app)
      const response = await fetch(`${server.origin}/events`, {
        headers: { 'accept-encoding': 'gzip, deflate' },
      })
      expect(response.headers.get('content-encoding')).toBeNull()
      const frames = frameReader(response.body)
      expect(await frames.next('opening comment')).toMatch(/^:/)
      for (const [index, step] of steps.entries()) {
        step.resolve()
        expect(await frames.next(`event ${index + 1} before the next is produced`)).toBe(
          `id: ${index + 1}\ndata: event ${index + 1}`,
        )
      }
      expect(await frames.rest('end of body')).toBe('')
    },
  )
})
