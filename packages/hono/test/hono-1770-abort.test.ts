// honojs/hono #1770 (onAbort never called) and #2049 (Bun): the producer must learn that the
// client left. Here on @hono/node-server; the conformance suite checks workerd, Bun and Deno.
import type { EventStreamSummary } from '@ssekit/core'
import { sse } from '@ssekit/hono'
import { deferred, frameReader, withTimeout } from '@ssekit/test-support'
import { Hono } from 'hono'
import { expect, test } from 'vitest'
import { serveApp } from './_helpers.ts'

test('a client that leaves aborts the source signal, ends the generator and closes once', async () => {
  const aborted = deferred()
  const finished = deferred()
  const closes: EventStreamSummary[] = []
  const closed = deferred()
  const app = new Hono()
  app.get('/events', (c) =>
    sse(
      c,
      async function* ({ signal }) {
        signal.addEventListener('abort', () => aborted.resolve(), { once: true })
        try {
          for (let index = 1; ; index++) {
            yield { id: String(index), data: `tick ${index}` }
            await new Promise((resolve) => setTimeout(resolve, 20))
          }
        } finally {
          finished.resolve()
        }
      },
      {
        onClose: (summary) => {
          closes.push(summary)
          closed.resolve()
        },
      },
    ),
  )
  await using server = await serveApp(app)
  const controller = new AbortController()
  const response = await fetch(`${server.origin}/events`, { signal: controller.signal })
  const frames = frameReader(response.body)
  await frames.next('opening comment')
  expect(await frames.next('first tick')).toBe('id: 1\ndata: tick 1')
  controller.abort()
  await withTimeout(aborted.promise, 2000, 'the source signal aborted')
  await withTimeout(finished.promise, 2000, "the generator's finally ran")
  await withTimeout(closed.promise, 2000, 'onClose ran')
  await new Promise((resolve) => setTimeout(resolve, 50))
  expect(closes).toHaveLength(1)
  expect(['cancel', 'abort']).toContain(closes[0]?.reason)
})
