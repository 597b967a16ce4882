import { SseError } from '@ssekit/core'
import { fetchEventStream, type RetryContext, type ServerSentEvent } from '@ssekit/fetch-client'
import { describe, expect, it } from 'vitest'
import { withTimeout } from './_helpers.ts'
import type { ScenarioLog } from './_server.ts'

/**
 * The client's behaviour against the scenario server (test/_server.ts), as a function of its base
 * URL: it uses only `fetch` and the package, so other runtimes can run it against the same server.
 */
export function defineClientSuite(getBaseUrl: () => string): void {
  const scenario = (path: string, query: Record<string, string> = {}) => {
    const key = crypto.randomUUID()
    const url = new URL(path, getBaseUrl())
    url.searchParams.set('key', key)
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value)
    return {
      url: url.href,
      log: async (): Promise<ScenarioLog> => {
        const response = await fetch(new URL(`/_log?key=${key}`, getBaseUrl()))
        return (await response.json()) as ScenarioLog
      },
    }
  }

  async function collect<T>(
    iterable: AsyncIterable<T>,
    label: string,
    milliseconds = 5000,
  ): Promise<T[]> {
    return withTimeout(
      (async () => {
        const out: T[] = []
        for await (const event of iterable) out.push(event)
        return out
      })(),
      milliseconds,
      label,
    )
  }

  async function rejection(promise: Promise<unknown>, label: string): Promise<unknown> {
    return withTimeout(
      promise.then(
        () => {
          throw new Error(`${label}: expected a rejection`)
        },
        (error: unknown) => error,
      ),
      5000,
      label,
    )
  }

  const data = (events: ServerSentEvent[]) =>
    events.map((event) => `${event.data}/${event.lastEventId}`)

  describe('fetchEventStream', () => {
    it('reconnects after a dropped connection with Last-Event-ID, and stops on 204', async () => {
      const { url, log } = scenario('/resume-chain')
      const retries: RetryContext[] = []
      const events = await collect(
        fetchEventStream(url, { onRetry: (context) => retries.push(context) }),
        'resume chain',
      )
      expect(data(events)).toEqual(['one/1', 'two/2', 'three after 2/3'])
      const { requests } = await log()
      expect(requests.map((request) => request.lastEventId)).toEqual([null, '2', '3'])
      expect(requests.every((request) => request.accept === 'text/event-stream')).toBe(true)
      // The drop is a network error; the end of the 2nd body is the spec's plain "reestablish".
      expect(retries.map((retry) => retry.error?.code)).toEqual(['network', undefined])
      // The server's retry: 5 is the base of the backoff (full jitter: 0 to 5 ms).
      expect(retries[0]?.delayMs).toBeLessThanOrEqual(5)
    })

    it('keeps the last event id over connections that carry none, and backs off a server that drops every connection at once', async () => {
      const { url, log } = scenario('/flap')
      const retries: RetryContext[] = []
      const events = await collect(
        fetchEventStream(url, { retryMs: 2, onRetry: (context) => retries.push(context) }),
        'flap',
      )
      expect(data(events)).toEqual(['1/5', '2/5', '3/5'])
      expect((await log()).requests.map((request) => request.lastEventId)).toEqual([
        null,
        '5',
        '5',
        '5',
      ])
      // Each connection delivered an event but broke 20 ms after it opened: not healthy, so the
      // attempts go on counting (and maxRetries / maxElapsedMs would end a flapping server).
      expect(retries.map((retry) => retry.attempt)).toEqual([1, 2, 3])
    })

    it('with healthyAfterMs: 0 starts the backoff over after every connection that opened', async () => {
      const { url } = scenario('/flap')
      const retries: RetryContext[] = []
      const events = await collect(
        fetchEventStream(url, {
          retryMs: 2,
          healthyAfterMs: 0,
          onRetry: (context) => retries.push(context),
        }),
        'flap, healthy at once',
      )
      expect(events).toHaveLength(3)
      expect(retries.map((retry) => retry.attempt)).toEqual([1, 1, 1])
    })

    it('gives up with retries-exhausted after maxElapsedMs of failures', async () => {
      const { url, log } = scenario('/status', { status: '500' })
      const error = await rejection(
        collect(
          fetchEventStream(url, { retryMs: 20, maxRetryMs: 20, maxElapsedMs: 100 }),
          'elapsed',
        ),
        'maxElapsedMs',
      )
      expect((error as SseError).code).toBe('retries-exhausted')
      expect((await log()).requests.length).toBeGreaterThan(1)
    })

    it('throws idle-timeout for a stalled POST instead of re-sending it', async () => {
      const { url, log } = scenario('/stall')
      const seen: string[] = []
      const error = await rejection(
        (async () => {
          for await (const event of fetchEventStream(url, {
            method: 'POST',
            body: 'x',
            idleTimeoutMs: 100,
          })) {
            seen.push(event.data)
          }
        })(),
        'stalled post',
      )
      expect(seen).toEqual(['before the stall'])
      expect((error as SseError).code).toBe('idle-timeout')
      expect((await log()).requests).toHaveLength(1)
    })

    it('sends initialLastEventId with the first request', async () => {
      const { url, log } = scenario('/once', { id: 'b' })
      const client = fetchEventStream(url, { initialLastEventId: 'a', retryMs: 1 })
      expect(data(await collect(client, 'initial id'))).toEqual(['once/b'])
      expect(client.lastEventId).toBe('b')
      expect((await log()).requests.map((request) => request.lastEventId)).toEqual(['a', 'b'])
    })

    it('ends without any event or reconnect on 204', async () => {
      const { url, log } = scenario('/status', { status: '204' })
      expect(await collect(fetchEventStream(url), '204')).toEqual([])
      expect((await log()).requests).toHaveLength(1)
    })

    it('fails on 404 with status, headers and a bounded body excerpt, never parsing the body', async () => {
      const { url, log } = scenario('/status', { status: '404' })
      const seen: ServerSentEvent[] = []
      const error = await rejection(
        (async () => {
          for await (const event of fetchEventStream(url, { retryMs: 1 })) seen.push(event)
        })(),
        '404',
      )
      expect(SseError.isInstance(error)).toBe(true)
      const sseError = error as SseError
      expect(sseError.code).toBe('bad-status')
      expect(sseError.status).toBe(404)
      expect(sseError.headers?.get('content-type')).toContain('text/html')
      expect(sseError.body?.startsWith('<html><body>error page')).toBe(true)
      expect(sseError.body?.length).toBeLessThanOrEqual(1024)
      expect(seen).toEqual([])
      expect((await log()).requests).toHaveLength(1)
    })

    it('retries a 500 and then reads the stream', async () => {
      const { url, log } = scenario('/status', { status: '500', times: '2' })
      const retries: RetryContext[] = []
      const events = await collect(
        fetchEventStream(url, { retryMs: 2, onRetry: (context) => retries.push(context) }),
        '500 then 200',
      )
      expect(data(events)).toEqual(['recovered/'])
      expect(retries.slice(0, 2).map((retry) => [retry.attempt, retry.error?.status])).toEqual([
        [1, 500],
        [2, 500],
      ])
      expect((await log()).requests).toHaveLength(4)
    })

    it('honours Retry-After on 503 and 429', async () => {
      for (const status of ['503', '429']) {
        const { url } = scenario('/status', { status, times: '1', retryAfter: '0' })
        const retries: RetryContext[] = []
        const client = fetchEventStream(url, {
          retryMs: 60_000,
          onRetry: (context) => retries.push(context),
        })
        const first = await withTimeout(client.next(), 5000, `${status} Retry-After`)
        client.close()
        expect(first.value?.data).toBe('recovered')
        // Retry-After: 0 wins over a 60 s backoff base.
        expect(retries[0]?.delayMs).toBe(0)
      }
    })

    it('lets shouldRetry make a 4xx retryable or a 5xx fatal', async () => {
      const retried = scenario('/status', { status: '401', times: '1' })
      const events = await collect(
        fetchEventStream(retried.url, { retryMs: 1, shouldRetry: (error) => error.status === 401 }),
        'retry 401',
      )
      expect(data(events)).toEqual(['recovered/'])
      const fatal = scenario('/status', { status: '500' })
      const error = await rejection(
        collect(fetchEventStream(fatal.url, { retryMs: 1, shouldRetry: () => false }), 'no retry'),
        '500 fatal',
      )
      expect((error as SseError).status).toBe(500)
      expect((await fatal.log()).requests).toHaveLength(1)
    })

    it('gives up with retries-exhausted after maxRetries, with the last error as cause', async () => {
      const { url, log } = scenario('/status', { status: '502' })
      const error = await rejection(
        collect(fetchEventStream(url, { retryMs: 1, maxRetries: 3 }), 'x'),
        'exhaust',
      )
      expect((error as SseError).code).toBe('retries-exhausted')
      expect(((error as SseError).cause as SseError).status).toBe(502)
      expect((await log()).requests).toHaveLength(4)
    })

    it('rejects a 200 with another content type, without parsing it and without reconnecting', async () => {
      const { url, log } = scenario('/content-type', { type: 'text/html' })
      const error = await rejection(
        collect(fetchEventStream(url, { retryMs: 1 }), 'html'),
        'html 200',
      )
      expect((error as SseError).code).toBe('bad-content-type')
      expect((error as SseError).body).toBe('data: parsed?\n\n')
      const bogus = scenario('/content-type', { type: 'text/event-streaming' })
      const bogusError = await rejection(
        collect(fetchEventStream(bogus.url), 'bogus'),
        'bogus type',
      )
      expect((bogusError as SseError).code).toBe('bad-content-type')
      expect((await log()).requests).toHaveLength(1)
    })

    it('accepts the MIME essence case-insensitively with parameters, and always decodes UTF-8', async () => {
      const { url } = scenario('/json')
      const events = await collect(
        fetchEventStream<{ token: { text: string }; done: null }>(url, { parse: 'json' }),
        'json',
      )
      const text = events.map((event) => (event.type === 'token' ? event.data.text : '|'))
      expect(text.join('')).toBe('Hello…|')
    })

    it('parses per event type with a parse map', async () => {
      const { url } = scenario('/json')
      const events = await collect(
        fetchEventStream<{ token: { text: string }; done: string }>(url, {
          parse: { token: (value) => JSON.parse(value) as { text: string } },
        }),
        'parse map',
      )
      expect(events.map((event) => event.data)).toEqual([{ text: 'Hel' }, { text: 'lo…' }, 'null'])
    })

    it('never re-sends a POST by default: a dropped POST stream throws after its events', async () => {
      const { url, log } = scenario('/post-drop')
      const seen: string[] = []
      const error = await rejection(
        (async () => {
          for await (const event of fetchEventStream(url, {
            method: 'POST',
            body: '{"q":1}',
            retryMs: 1,
          })) {
            seen.push(event.data)
          }
        })(),
        'post drop',
      )
      expect(seen).toEqual(['token 1', 'token 2'])
      expect((error as SseError).code).toBe('network')
      const { requests } = await log()
      expect(requests.map((request) => request.method)).toEqual(['POST'])
    })

    it('does not reconnect a POST whose body ended normally', async () => {
      const { url, log } = scenario('/once')
      const events = await collect(
        fetchEventStream(url, { method: 'POST', body: 'hello', retryMs: 1 }),
        'post end',
      )
      expect(data(events)).toEqual(['hello/a'])
      expect((await log()).requests).toHaveLength(1)
    })

    it('resumes a dropped POST with a GET that carries Last-Event-ID', async () => {
      const { url, log } = scenario('/post-drop')
      const resumeUrl = url.replace('/post-drop', '/post-resume')
      const contexts: { lastEventId: string; code: string | undefined }[] = []
      const events = await collect(
        fetchEventStream(url, {
          method: 'POST',
          body: '{"prompt":"hi"}',
          headers: { authorization: 'Bearer t' },
          retryMs: 1,
          resume: ({ lastEventId, error }) => {
            contexts.push({ lastEventId, code: error?.code })
            return resumeUrl
          },
        }),
        'resume',
      )
      expect(data(events)).toEqual(['token 1/1', 'token 2/2', 'token 3 after 2/3'])
      expect(contexts).toEqual([{ lastEventId: '2', code: 'network' }])
      const { requests } = await log()
      expect(
        requests.map((request) => [request.method, request.path, request.lastEventId]),
      ).toEqual([
        ['POST', '/post-drop', null],
        ['GET', '/post-resume', '2'],
      ])
      expect(requests[1]?.authorization).toBe('Bearer t')
      expect(requests[1]?.body).toBe('')
    })

    it('re-sends a POST only with reconnect: always', async () => {
      const { url, log } = scenario('/once')
      const events = await collect(
        fetchEventStream(url, { method: 'POST', body: 'again', reconnect: 'always', retryMs: 1 }),
        'always',
      )
      expect(data(events)).toEqual(['again/a'])
      const { requests } = await log()
      expect(
        requests.map((request) => [request.method, request.body, request.lastEventId]),
      ).toEqual([
        ['POST', 'again', null],
        ['POST', 'again', 'a'],
      ])
    })

    it('calls the headers function before every attempt', async () => {
      const { url, log } = scenario('/resume-chain')
      let calls = 0
      await collect(
        fetchEventStream(url, {
          headers: async () => ({ authorization: `Bearer token-${++calls}` }),
        }),
        'headers fn',
      )
      const { requests } = await log()
      expect(requests.map((request) => request.authorization)).toEqual([
        'Bearer token-1',
        'Bearer token-2',
        'Bearer token-3',
      ])
    })

    it('drops a stalled connection after idleTimeoutMs and reconnects', async () => {
      const { url, log } = scenario('/stall')
      const retries: RetryContext[] = []
      const events = await collect(
        fetchEventStream(url, {
          idleTimeoutMs: 150,
          retryMs: 1,
          onRetry: (context) => retries.push(context),
        }),
        'stall',
      )
      expect(data(events)).toEqual(['before the stall/'])
      expect(retries.map((retry) => retry.error?.code)).toEqual(['idle-timeout'])
      const current = await log()
      expect(current.requests).toHaveLength(2)
      expect(current.clientClosed).toBe(1)
    })

    it('applies the idle timeout to a server that never sends headers', async () => {
      const { url } = scenario('/stall-headers')
      const retries: RetryContext[] = []
      const events = await collect(
        fetchEventStream(url, {
          idleTimeoutMs: 150,
          retryMs: 1,
          onRetry: (context) => retries.push(context),
        }),
        'stall headers',
      )
      expect(data(events)).toEqual(['second try/'])
      expect(retries[0]?.error?.code).toBe('idle-timeout')
    })

    it('counts comments as activity for the idle timeout', async () => {
      const { url } = scenario('/heartbeat')
      const comments: string[] = []
      const events = await collect(
        // The stream lasts 1 s, twice the budget, with a comment every 50 ms: only comments
        // resetting the timer let it through (and a loaded machine gets 450 ms of slack).
        fetchEventStream(url, {
          idleTimeoutMs: 500,
          reconnect: 'never',
          onComment: (comment) => comments.push(comment),
        }),
        'heartbeat',
      )
      expect(data(events)).toEqual(['after heartbeats/'])
      expect(comments).toHaveLength(20)
    })

    it('throws line-too-long, closes the connection and does not reconnect', async () => {
      const { url, log } = scenario('/long-line')
      const error = await rejection(
        collect(fetchEventStream(url, { maxLineBytes: 1024, retryMs: 1 }), 'x'),
        'limit',
      )
      expect((error as SseError).code).toBe('line-too-long')
      const current = await waitForLog(
        log,
        (entry) => entry.clientClosed === 1,
        'connection closed',
      )
      expect(current.requests).toHaveLength(1)
    })

    it('reads the body only as fast as the consumer asks (backpressure)', async () => {
      const { url, log } = scenario('/backpressure')
      const client = fetchEventStream(url)
      const first = await withTimeout(client.next(), 5000, 'first event')
      expect(first.done).toBe(false)
      await waitForLog(log, (entry) => entry.sawBackpressure, 'server sees write() return false')
      await sleep(200)
      const { written } = await log()
      expect(written).toBeLessThan(24 * 1024 * 1024)
      client.close()
      await waitForLog(log, (entry) => entry.clientClosed === 1, 'connection closed')
    })

    describe('abort and close', () => {
      it('rejects at once with the reason of an already-aborted signal, without a request', async () => {
        const { url, log } = scenario('/once')
        const reason = new Error('already')
        const client = fetchEventStream(url, { signal: AbortSignal.abort(reason) })
        expect(await rejection(client.next(), 'pre-aborted')).toBe(reason)
        expect((await log()).requests).toHaveLength(0)
      })

      it('rejects with the reason when aborted while connecting', async () => {
        const { url, log } = scenario('/slow-headers', { ms: '3000' })
        const controller = new AbortController()
        const client = fetchEventStream(url, { signal: controller.signal })
        const pending = client.next()
        await waitForLog(log, (entry) => entry.requests.length === 1, 'request arrived')
        const reason = new Error('stop connecting')
        controller.abort(reason)
        expect(await rejection(pending, 'abort while connecting')).toBe(reason)
        await waitForLog(log, (entry) => entry.clientClosed === 1, 'connection closed')
      })

      it('cancels the body when aborted during a pending read', async () => {
        const { url, log } = scenario('/stall')
        const controller = new AbortController()
        const client = fetchEventStream(url, { signal: controller.signal })
        expect((await withTimeout(client.next(), 5000, 'first')).value?.data).toBe(
          'before the stall',
        )
        const pending = client.next()
        await sleep(20)
        const reason = new Error('stop reading')
        controller.abort(reason)
        expect(await rejection(pending, 'abort while reading')).toBe(reason)
        await waitForLog(log, (entry) => entry.clientClosed === 1, 'connection closed')
        expect(await rejection(client.next(), 'after abort')).toBe(reason)
      })

      it('rejects promptly when aborted during the backoff wait', async () => {
        const { url, log } = scenario('/status', { status: '500' })
        const controller = new AbortController()
        const retries: RetryContext[] = []
        const client = fetchEventStream(url, {
          signal: controller.signal,
          retryMs: 60_000,
          maxRetryMs: 60_000,
          onRetry: (context) => retries.push(context),
        })
        const pending = client.next()
        await waitFor(() => retries.length === 1, 'backoff started')
        const reason = new Error('stop waiting')
        controller.abort(reason)
        expect(await rejection(pending, 'abort during backoff')).toBe(reason)
        expect((await log()).requests).toHaveLength(1)
      })

      it('close() during a read ends the iteration quietly and closes the connection', async () => {
        const { url, log } = scenario('/endless')
        const client = fetchEventStream(url)
        const seen: string[] = []
        await withTimeout(
          (async () => {
            for await (const event of client) {
              seen.push(event.data)
              if (seen.length === 3) client.close()
            }
          })(),
          5000,
          'close',
        )
        expect(seen).toEqual(['0', '1', '2'])
        await waitForLog(log, (entry) => entry.clientClosed === 1, 'connection closed')
        expect((await client.next()).done).toBe(true)
      })

      it('break out of for await closes the connection', async () => {
        const { url, log } = scenario('/endless')
        for await (const event of fetchEventStream(url)) {
          if (event.data === '1') break
        }
        await waitForLog(log, (entry) => entry.clientClosed === 1, 'connection closed')
      })

      it('Symbol.asyncDispose closes the connection (await using)', async () => {
        const { url, log } = scenario('/endless')
        const client = fetchEventStream(url)
        await withTimeout(client.next(), 5000, 'first')
        await client[Symbol.asyncDispose]()
        await waitForLog(log, (entry) => entry.clientClosed === 1, 'connection closed')
      })
    })

    it('fails with a TypeError, once, when fetch does not stream bodies', async () => {
      let calls = 0
      const client = fetchEventStream('http://127.0.0.1/', {
        fetch: async () => {
          calls++
          return new Response(null, {
            status: 200,
            headers: { 'content-type': 'text/event-stream' },
          })
        },
      })
      const error = await rejection(client.next(), 'null body')
      expect(error).toBeInstanceOf(TypeError)
      expect(calls).toBe(1)
    })

    it('rejects impossible options with a TypeError', () => {
      expect(() => fetchEventStream('http://127.0.0.1/', { idleTimeoutMs: -1 })).toThrow(TypeError)
      // @ts-expect-error not a policy
      expect(() => fetchEventStream('http://127.0.0.1/', { reconnect: 'sometimes' })).toThrow(
        /reconnect must be/,
      )
      expect(() => fetchEventStream('')).toThrow(TypeError)
    })
  })
}

async function waitForLog(
  log: () => Promise<ScenarioLog>,
  condition: (entry: ScenarioLog) => boolean,
  label: string,
): Promise<ScenarioLog> {
  const deadline = Date.now() + 5000
  for (;;) {
    const entry = await log()
    if (condition(entry)) return entry
    if (Date.now() > deadline) throw new Error(`Timed out waiting for: ${label}`)
    await sleep(10)
  }
}

async function waitFor(condition: () => boolean, label: string): Promise<void> {
  const deadline = Date.now() + 5000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for: ${label}`)
    await sleep(5)
  }
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds))
}
