// honojs/hono #4041: streamSSE sets `Transfer-Encoding` and `Connection`, which node's HTTP/2
// server refuses (ERR_HTTP2_INVALID_CONNECTION_HEADERS). sse() must stream over h2c.
import { sse } from '@ssekit/hono'
import { Hono } from 'hono'
import { expect, test } from 'vitest'
import { http2Get, serveApp } from './_helpers.ts'

test('sse() streams over cleartext HTTP/2 on @hono/node-server', async () => {
  const app = new Hono()
  app.get('/events', (c) => sse(c, [{ id: '1', data: 'over h2' }], { retry: 1000 }))
  await using server = await serveApp(app, { http2: true })
  const response = await http2Get(server.origin, '/events')
  expect(response.status).toBe(200)
  expect(response.headers['content-type']).toMatch(/^text\/event-stream/)
  expect(response.headers['connection']).toBeUndefined()
  expect(response.headers['transfer-encoding']).toBeUndefined()
  expect(response.firstChunk).toMatch(/^retry: 1000\n\n/)
})
