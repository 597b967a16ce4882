import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { EventSource } from '@ssekit/fetch-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startScenarioServer } from './_server.ts'

// Audit items 14 (event handler attributes) and 15 (MessageEvent.origin after a redirect).

let server: Awaited<ReturnType<typeof startScenarioServer>> | undefined

beforeAll(async () => {
  server = await startScenarioServer()
})

afterAll(async () => {
  await server?.close()
})

/** `/once` on the scenario server: open, one message, then the end, a reconnect and a 204. */
function onceUrl(): string {
  if (!server) throw new Error('the scenario server did not start')
  return `${server.url}/once?key=${crypto.randomUUID()}`
}

/** Runs `source` until it is CLOSED (bounded), with `seen` filled by the caller's listeners. */
function untilClosed(source: EventSource): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      source.close()
      reject(new Error('Timed out waiting for CLOSED'))
    }, 5000)
    source.addEventListener('error', () => {
      if (source.readyState === EventSource.CLOSED) {
        clearTimeout(timer)
        resolve()
      }
    })
  })
}

describe('EventSource event handler attributes', () => {
  it('run in registration order among listeners, and keep their place when replaced', async () => {
    const source = new EventSource(onceUrl(), { retryMs: 1 })
    const seen: string[] = []
    for (const type of ['open', 'message', 'error'] as const) {
      source.addEventListener(type, () => seen.push(`${type} listener 1`))
    }
    source.onopen = () => seen.push('onopen')
    source.onmessage = () => seen.push('onmessage')
    source.onerror = () => seen.push('onerror')
    for (const type of ['open', 'message', 'error'] as const) {
      source.addEventListener(type, () => seen.push(`${type} listener 2`))
    }
    source.onmessage = () => seen.push('onmessage replaced')
    await untilClosed(source)
    expect(seen.slice(0, 6)).toEqual([
      'open listener 1',
      'onopen',
      'open listener 2',
      'message listener 1',
      'onmessage replaced',
      'message listener 2',
    ])
    expect(seen.slice(-3)).toEqual(['error listener 1', 'onerror', 'error listener 2'])
  })

  it('leave the list when set to null, and join at its end when set again', async () => {
    const source = new EventSource(onceUrl(), { retryMs: 1 })
    const seen: string[] = []
    source.onmessage = () => seen.push('first handler')
    source.addEventListener('message', () => seen.push('listener'))
    source.onmessage = null
    expect(source.onmessage).toBeNull()
    source.onmessage = () => seen.push('second handler')
    await untilClosed(source)
    expect(seen).toEqual(['listener', 'second handler'])
  })

  it('count a value that is not a function as null', async () => {
    const source = new EventSource(onceUrl(), { retryMs: 1 })
    const seen: string[] = []
    source.addEventListener('message', () => seen.push('listener'))
    const loose = source as unknown as Record<'onmessage' | 'onopen' | 'onerror', unknown>
    loose.onmessage = 'not a function'
    loose.onopen = {}
    loose.onerror = 42
    expect([source.onmessage, source.onopen, source.onerror]).toEqual([null, null, null])
    const errors: unknown[] = []
    const onUncaught = (error: unknown): void => void errors.push(error)
    process.on('uncaughtException', onUncaught)
    try {
      await untilClosed(source)
      // Node reports a throwing listener on the next tick.
      await new Promise((resolve) => setTimeout(resolve, 20))
    } finally {
      process.off('uncaughtException', onUncaught)
    }
    expect(seen).toEqual(['listener'])
    expect(errors).toEqual([])
  })
})

describe('EventSource MessageEvent.origin', () => {
  it('is the origin of the final URL after a redirect', async () => {
    const target = onceUrl()
    const redirector = createServer((_request, response) => {
      response.writeHead(307, { location: target }).end()
    })
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = redirector.address() as AddressInfo
      const requested = `http://127.0.0.1:${port}/`
      expect(new URL(requested).origin).not.toBe(new URL(target).origin)
      const source = new EventSource(requested, { retryMs: 1 })
      const origins: string[] = []
      source.onmessage = (event) => origins.push((event as MessageEvent).origin)
      await untilClosed(source)
      expect(origins).toEqual([new URL(target).origin])
      expect(source.url).toBe(requested)
    } finally {
      redirector.closeAllConnections()
      await new Promise<void>((resolve) => redirector.close(() => resolve()))
    }
  })

  it('is the requested URL’s origin when the response has no URL (a custom fetch)', async () => {
    const source = new EventSource('http://example.test/events', {
      retryMs: 1,
      fetch: async () =>
        new Response('data: x\n\n', { headers: { 'content-type': 'text/event-stream' } }),
    })
    const origins: string[] = []
    source.onmessage = (event) => {
      origins.push((event as MessageEvent).origin)
      source.close()
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no message')), 5000)
      source.addEventListener('message', () => {
        clearTimeout(timer)
        resolve()
      })
    })
    expect(origins).toEqual(['http://example.test'])
  })
})
