import type { SseError } from '@ssekit/core'
import { fetchEventStream, type RetryContext } from '@ssekit/fetch-client'
import { describe, expect, it } from 'vitest'
import { withTimeout } from './_helpers.ts'

// Each retry below would wait 60 s (Retry-After on a 503): only ending the wait early lets a test
// finish within its bounded waits.
const unavailable = () => {
  const requests: string[] = []
  const fetch = async (input: Request | string | URL): Promise<Response> => {
    requests.push(String(input))
    return new Response('down', { status: 503, headers: { 'retry-after': '60' } })
  }
  return { requests, fetch }
}

const streamOf = (text: string) =>
  new Response(text, { headers: { 'content-type': 'text/event-stream' } })

describe('fetchEventStream lifecycle', () => {
  it('close() during the backoff wait ends the pending next() at once, without another request', async () => {
    const server = unavailable()
    const retries: RetryContext[] = []
    const client = fetchEventStream('http://127.0.0.1/', {
      fetch: server.fetch,
      onRetry: (context) => retries.push(context),
    })
    const pending = client.next()
    await withTimeout(
      (async () => {
        while (retries.length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
      })(),
      5000,
      'the backoff wait begins',
    )
    expect(retries[0]?.delayMs).toBe(60_000)
    client.close()
    expect(await withTimeout(pending, 1000, 'close during the wait')).toEqual({
      done: true,
      value: undefined,
    })
    expect(server.requests).toHaveLength(1)
  })

  it('an abort during the backoff wait rejects the pending next() with its reason at once', async () => {
    const server = unavailable()
    const controller = new AbortController()
    const reason = new Error('stop waiting')
    const client = fetchEventStream('http://127.0.0.1/', {
      fetch: server.fetch,
      signal: controller.signal,
      onRetry: () => setTimeout(() => controller.abort(reason), 10),
    })
    const outcome = client.next().then(
      () => 'resolved',
      (error: unknown) => error,
    )
    expect(await withTimeout(outcome, 1000, 'abort during the wait')).toBe(reason)
    await expect(withTimeout(client.next(), 1000, 'next after the abort')).rejects.toBe(reason)
    expect(server.requests).toHaveLength(1)
  })

  it('close() inside onRetry ends the iteration without waiting out the backoff', async () => {
    const server = unavailable()
    const client = fetchEventStream('http://127.0.0.1/', {
      fetch: server.fetch,
      onRetry: () => client.close(),
    })
    expect(await withTimeout(client.next(), 1000, 'close in onRetry')).toEqual({
      done: true,
      value: undefined,
    })
    expect(server.requests).toHaveLength(1)
  })

  it('an abort inside shouldRetry rejects with its reason without waiting out the backoff', async () => {
    const server = unavailable()
    const controller = new AbortController()
    const reason = new Error('stop retrying')
    const client = fetchEventStream('http://127.0.0.1/', {
      fetch: server.fetch,
      signal: controller.signal,
      shouldRetry: () => {
        controller.abort(reason)
        return true
      },
    })
    const outcome = client.next().then(
      () => 'resolved',
      (error: unknown) => error,
    )
    expect(await withTimeout(outcome, 1000, 'abort in shouldRetry')).toBe(reason)
    expect(server.requests).toHaveLength(1)
  })

  it('a data parse error rejects once, cancels the body, then the iteration is done', async () => {
    let cancelled = false
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('data: {"n":1}\n\ndata: not json\n\n'))
      },
      cancel() {
        cancelled = true
      },
    })
    const client = fetchEventStream('http://127.0.0.1/', {
      parse: 'json',
      reconnect: 'never',
      fetch: async () => new Response(body, { headers: { 'content-type': 'text/event-stream' } }),
    })
    expect((await withTimeout(client.next(), 1000, 'first event')).value?.data).toEqual({ n: 1 })
    const error = await withTimeout(client.next(), 1000, 'bad event').then(
      () => undefined,
      (reason: unknown) => reason as SseError,
    )
    expect(error?.code).toBe('bad-data')
    expect(error?.cause).toBeInstanceOf(SyntaxError)
    expect(cancelled).toBe(true)
    expect(await withTimeout(client.next(), 1000, 'after the error')).toEqual({
      done: true,
      value: undefined,
    })
  })

  it('resolves next() calls made at the same time in order', async () => {
    const client = fetchEventStream('http://127.0.0.1/', {
      reconnect: 'never',
      fetch: async () => streamOf('data: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n'),
    })
    const first = client.next()
    const second = client.next()
    await first
    // Asked while the second call is still queued: it must not overtake it.
    const third = client.next()
    const results = await withTimeout(Promise.all([first, second, third]), 1000, 'three events')
    expect(results.map((result) => result.value?.data)).toEqual(['1', '2', '3'])
    client.close()
  })

  it('a response that arrives after the idle timeout (a fetch that ignores the abort) is cancelled', async () => {
    let cancelled = false
    const fetch = async (): Promise<Response> => {
      await new Promise((resolve) => setTimeout(resolve, 100))
      const body = new ReadableStream<Uint8Array>({
        cancel() {
          cancelled = true
        },
      })
      return new Response(body, { headers: { 'content-type': 'text/event-stream' } })
    }
    const client = fetchEventStream('http://127.0.0.1/', {
      fetch,
      idleTimeoutMs: 20,
      reconnect: 'never',
    })
    await expect(withTimeout(client.next(), 2000, 'the idle timeout')).rejects.toMatchObject({
      code: 'idle-timeout',
    })
    // The timeout does not wait for that fetch; its response is cancelled when it comes.
    await withTimeout(
      (async () => {
        while (!cancelled) await new Promise((resolve) => setTimeout(resolve, 5))
      })(),
      2000,
      'the late response is cancelled',
    )
  })

  it('a server that sends retry: 0 and closes at once is not reconnected to in a tight loop', async () => {
    let requests = 0
    const fetch = async (): Promise<Response> => {
      requests++
      return streamOf('retry: 0\n\n')
    }
    const client = fetchEventStream('http://127.0.0.1/', { fetch })
    const pending = client.next().catch(() => undefined)
    await new Promise((resolve) => setTimeout(resolve, 500))
    client.close()
    await withTimeout(pending, 1000, 'close ends the iteration')
    // Spinning, this is thousands; growing from 100 ms, a handful.
    expect(requests).toBeGreaterThan(1)
    expect(requests).toBeLessThan(50)
  })
})
