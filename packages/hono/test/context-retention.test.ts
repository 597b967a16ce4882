// Regression: on @hono/node-server, the stream's promise (alive as long as the connection) once
// held a closure whose scope chain kept the whole Hono Context alive: about 2 KB per idle stream.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { sse } from '@ssekit/hono'
import { frameReader, withTimeout } from '@ssekit/test-support'
import { type Context, Hono } from 'hono'
import { expect, test } from 'vitest'
import { serveApp } from './_helpers.ts'

setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc') as () => void

test('an open stream does not keep its Hono Context alive', async () => {
  const contexts: WeakRef<Context>[] = []
  const app = new Hono()
  app.get('/events', (c) => {
    contexts.push(new WeakRef(c))
    return sse(c, async function* ({ signal }) {
      yield { data: 'open' }
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))
    })
  })
  await using server = await serveApp(app)
  // The first request warms caches (Hono's router, V8's inline caches) that may keep its Context.
  const warmUp = new AbortController()
  const first = frameReader(
    (await fetch(`${server.origin}/events`, { signal: warmUp.signal })).body,
  )
  await first.next('warm-up stream')
  warmUp.abort()
  contexts.length = 0
  const controller = new AbortController()
  const responses = await Promise.all(
    Array.from({ length: 10 }, () =>
      fetch(`${server.origin}/events`, { signal: controller.signal }),
    ),
  )
  try {
    for (const response of responses) {
      const frames = frameReader(response.body)
      await frames.next('opening comment')
      expect(await frames.next('first event')).toBe('data: open')
    }
    // Finalization is not immediate: a few collections with a turn of the event loop between them.
    for (let round = 0; round < 10 && contexts.some((context) => context.deref()); round++) {
      collectGarbage()
      await withTimeout(new Promise((resolve) => setTimeout(resolve, 10)), 1000, 'a tick')
    }
    // One may stay reachable from Node's own timer bookkeeping (always the first of the batch,
    // measured); the leak this guards against kept every one of them.
    expect(contexts).toHaveLength(10)
    expect(contexts.filter((context) => context.deref() !== undefined).length).toBeLessThanOrEqual(
      1,
    )
  } finally {
    controller.abort()
  }
})
