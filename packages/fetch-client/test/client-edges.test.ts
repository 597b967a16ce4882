import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { SseError } from '@ssekit/core'
import { EventSource, fetchEventStream, type RetryContext } from '@ssekit/fetch-client'
import { describe, expect, it } from 'vitest'
import { withTimeout } from './_helpers.ts'

const SSE = { 'content-type': 'text/event-stream' }
const streamOf = (text: string) => new Response(text, { headers: SSE })
const never = <T>() => new Promise<T>(() => {})
const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds))

/** A body that sends `text`, then breaks as a dropped connection does. */
const breakingBody = (text: string) => {
  let sent = false
  return new ReadableStream<Uint8Array>({
    pull(stream) {
      if (sent) stream.error(new Error('connection reset'))
      else stream.enqueue(new TextEncoder().encode(text))
      sent = true
    },
  })
}

/** Reads `client` to its end, bounded: the data of its events, and what it ended with if not done. */
async function drain(
  client: AsyncIterable<{ data: string }>,
  label: string,
): Promise<{ data: string[]; error?: SseError }> {
  const data: string[] = []
  const result = await outcome(
    withTimeout(
      (async () => {
        for await (const event of client) data.push(event.data)
      })(),
      2000,
      label,
    ),
  )
  return 'error' in result ? { data, error: result.error as SseError } : { data }
}

/** What a pending `next()` came to: its result, or the rejection reason. */
const outcome = (promise: Promise<unknown>) =>
  promise.then(
    (result) => ({ result }),
    (error: unknown) => ({ error }),
  )

describe('fetchEventStream edge cases', () => {
  it('sends a non-ASCII Last-Event-ID as UTF-8 bytes, as the spec says, instead of failing', async () => {
    const received: Buffer[] = []
    const server = createServer((request: IncomingMessage, response) => {
      // Node hands header values over as latin1: one character per byte on the wire.
      const header = request.headers['last-event-id']
      if (typeof header === 'string') received.push(Buffer.from(header, 'latin1'))
      if (received.length === 0) {
        response.writeHead(200, SSE)
        response.end('id: 日本é\ndata: first\n\n')
      } else {
        response.writeHead(204).end()
      }
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = server.address() as AddressInfo
      const events: string[] = []
      await withTimeout(
        (async () => {
          for await (const event of fetchEventStream(`http://127.0.0.1:${port}/`, { retryMs: 1 })) {
            events.push(`${event.data}/${event.lastEventId}`)
          }
        })(),
        5000,
        'stream with a non-ASCII id',
      )
      expect(events).toEqual(['first/日本é'])
      expect(received.map((bytes) => bytes.toString('utf8'))).toEqual(['日本é'])
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('keeps a per-type parse map to its own keys: Object.prototype members are not parsers', async () => {
    const client = fetchEventStream<{ token: number }>('http://127.0.0.1/', {
      reconnect: 'never',
      parse: { token: Number },
      fetch: async () =>
        streamOf(
          'event: constructor\ndata: a\n\nevent: toString\ndata: b\n\nevent: hasOwnProperty\ndata: c\n\nevent: token\ndata: 7\n\n',
        ),
    })
    const events: unknown[] = []
    await withTimeout(
      (async () => {
        for await (const event of client) events.push([event.type, event.data])
      })(),
      2000,
      'typed events',
    )
    expect(events).toEqual([
      ['constructor', 'a'],
      ['toString', 'b'],
      ['hasOwnProperty', 'c'],
      ['token', 7],
    ])
  })

  it('hands out a chunk of 400,000 events in linear time', async () => {
    const count = 400_000
    const client = fetchEventStream('http://127.0.0.1/', {
      reconnect: 'never',
      fetch: async () => streamOf('data: x\n\n'.repeat(count)),
    })
    let seen = 0
    // A queue that shifted its array took about 50 s for this; a linear one, well under a second.
    // (The loop gives the timers a turn now and then, or nothing could stop a slow one.)
    await withTimeout(
      (async () => {
        for await (const _event of client) {
          if (++seen % 20_000 === 0) await new Promise((resolve) => setTimeout(resolve, 0))
        }
      })(),
      10_000,
      'one large chunk',
    )
    expect(seen).toBe(count)
  })

  it('hands out the events before a limit error, then throws it and cancels the body', async () => {
    let cancelled = false
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(
          new TextEncoder().encode(`data: a\n\ndata: b\n\ndata: ${'x'.repeat(200)}`),
        )
      },
      cancel() {
        cancelled = true
      },
    })
    const client = fetchEventStream('http://127.0.0.1/', {
      maxLineBytes: 100,
      fetch: async () => new Response(body, { headers: SSE }),
    })
    const { data, error } = await drain(client, 'the limit')
    expect(data).toEqual(['a', 'b'])
    expect(error?.code).toBe('line-too-long')
    expect(cancelled).toBe(true)
  })

  describe('ending while user code or fetch never settles', () => {
    it('close() while headers() is pending resolves the pending next() as done', async () => {
      let requests = 0
      const client = fetchEventStream('http://127.0.0.1/', {
        headers: () => never<HeadersInit>(),
        fetch: async () => {
          requests++
          return streamOf('data: x\n\n')
        },
      })
      const pending = outcome(client.next())
      await sleep(20)
      client.close()
      expect(await withTimeout(pending, 1000, 'close during headers()')).toEqual({
        result: { done: true, value: undefined },
      })
      expect(requests).toBe(0)
    })

    it('an abort while a custom fetch ignores its signal rejects with the reason', async () => {
      const controller = new AbortController()
      const reason = new Error('leaving')
      const client = fetchEventStream('http://127.0.0.1/', {
        signal: controller.signal,
        fetch: () => never<Response>(),
      })
      const pending = outcome(client.next())
      await sleep(20)
      controller.abort(reason)
      expect(await withTimeout(pending, 1000, 'abort during fetch')).toEqual({ error: reason })
    })

    it('the idle timeout ends a fetch that ignores its signal', async () => {
      const client = fetchEventStream('http://127.0.0.1/', {
        idleTimeoutMs: 30,
        reconnect: 'never',
        fetch: () => never<Response>(),
      })
      const result = await withTimeout(outcome(client.next()), 2000, 'idle timeout during fetch')
      expect((result as { error: SseError }).error.code).toBe('idle-timeout')
    })

    it('close() while resume() is pending resolves the pending next() as done', async () => {
      let requests = 0
      const client = fetchEventStream('http://127.0.0.1/', {
        method: 'POST',
        body: '{}',
        retryMs: 1,
        resume: () => never<string>(),
        fetch: async () => {
          requests++
          return new Response(breakingBody('id: 1\ndata: a\n\n'), { headers: SSE })
        },
      })
      expect((await withTimeout(client.next(), 1000, 'first event')).value?.data).toBe('a')
      const pending = outcome(client.next())
      await sleep(30)
      client.close()
      expect(await withTimeout(pending, 1000, 'close during resume()')).toEqual({
        result: { done: true, value: undefined },
      })
      expect(requests).toBe(1)
    })
  })

  it('a resume() that gives up rethrows the error that broke the stream', async () => {
    const client = fetchEventStream('http://127.0.0.1/', {
      method: 'POST',
      body: '{}',
      retryMs: 1,
      resume: () => undefined,
      fetch: async () => new Response(breakingBody('data: a\n\n'), { headers: SSE }),
    })
    const { data, error } = await drain(client, 'resume gives up')
    expect(data).toEqual(['a'])
    expect(error?.code).toBe('network')
  })

  it('re-sends a POST Request with its body on every attempt with reconnect: always', async () => {
    const bodies: string[] = []
    const client = fetchEventStream(
      new Request('http://127.0.0.1/', { method: 'POST', body: 'question' }),
      {
        reconnect: 'always',
        retryMs: 1,
        fetch: async (input) => {
          bodies.push(await (input as Request).text())
          return bodies.length < 3
            ? streamOf(`data: ${bodies.length}\n\n`)
            : new Response(null, { status: 204 })
        },
      },
    )
    expect(await drain(client, 'three attempts')).toEqual({ data: ['1', '2'] })
    expect(bodies).toEqual(['question', 'question', 'question'])
  })

  it('refuses a ReadableStream body that a reconnect would have to send again', () => {
    const body = new ReadableStream<Uint8Array>()
    expect(() =>
      fetchEventStream('http://127.0.0.1/', { method: 'POST', body, reconnect: 'always' }),
    ).toThrow(TypeError)
    // Sent once (a POST without resume is never re-sent), it is fine.
    expect(() => fetchEventStream('http://127.0.0.1/', { method: 'POST', body })).not.toThrow()
  })

  describe('delays past the longest timer', () => {
    it("a server's retry: 9999999999 waits instead of reconnecting at once", async () => {
      let requests = 0
      const retries: RetryContext[] = []
      const client = fetchEventStream('http://127.0.0.1/', {
        onRetry: (context) => retries.push(context),
        fetch: async () => {
          requests++
          return streamOf('retry: 9999999999\n\n')
        },
      })
      const pending = outcome(client.next())
      await sleep(200)
      client.close()
      await withTimeout(pending, 1000, 'close during the wait')
      // A timer past 2 ** 31 - 1 ms fires at once: this was hundreds of requests.
      expect(requests).toBe(1)
      expect(retries[0]?.delayMs).toBeLessThanOrEqual(2 ** 31 - 1)
    })

    it('a Retry-After of 30 days waits (capped at the longest timer) instead of retrying at once', async () => {
      let requests = 0
      const retries: RetryContext[] = []
      const client = fetchEventStream('http://127.0.0.1/', {
        onRetry: (context) => retries.push(context),
        fetch: async () => {
          requests++
          return new Response('busy', { status: 503, headers: { 'retry-after': '2592000' } })
        },
      })
      const pending = outcome(client.next())
      await sleep(200)
      client.close()
      await withTimeout(pending, 1000, 'close during the wait')
      expect(requests).toBe(1)
      expect(retries[0]?.delayMs).toBe(2 ** 31 - 1)
    })

    it('an idleTimeoutMs past the longest timer does not fire at once', async () => {
      const client = fetchEventStream('http://127.0.0.1/', {
        idleTimeoutMs: 2 ** 31,
        reconnect: 'never',
        fetch: async () =>
          new Response(
            new ReadableStream<Uint8Array>({
              async pull(stream) {
                await sleep(50)
                stream.enqueue(new TextEncoder().encode('data: late\n\n'))
                stream.close()
              },
            }),
            { headers: SSE },
          ),
      })
      expect((await withTimeout(client.next(), 2000, 'a late event')).value?.data).toBe('late')
      client.close()
    })
  })

  it('an unreadable Retry-After falls back to the backoff', async () => {
    const retries: RetryContext[] = []
    const client = fetchEventStream('http://127.0.0.1/', {
      retryMs: 60_000,
      onRetry: (context) => retries.push(context),
      fetch: async () => new Response('busy', { status: 503, headers: { 'retry-after': '1.5' } }),
    })
    const pending = outcome(client.next())
    await withTimeout(
      (async () => {
        while (retries.length === 0) await sleep(5)
      })(),
      1000,
      'the wait begins',
    )
    client.close()
    await withTimeout(pending, 1000, 'close during the wait')
    // "1.5" is neither delta-seconds nor an HTTP date; read as a past date it was a 0 ms wait. The
    // backoff's is uniform in [0, 60 s): 0 only once in 60,000 runs.
    expect(retries[0]?.delayMs).toBeGreaterThan(0)
  })

  it('fails with invalid-field, without retrying, for a last event id a header cannot carry', async () => {
    let requests = 0
    const client = fetchEventStream('http://127.0.0.1/', {
      retryMs: 1,
      fetch: async () => {
        requests++
        return streamOf('id: a\u0001b\ndata: x\n\n')
      },
    })
    const { data, error } = await drain(client, 'the reconnect')
    expect(data).toEqual(['x'])
    expect(error?.code).toBe('invalid-field')
    expect(requests).toBe(1)
  })

  it('close() while the body of an error response is read settles at once', async () => {
    const client = fetchEventStream('http://127.0.0.1/', {
      // A body that never ends and ignores the abort: only cancelling the reader stops it.
      fetch: async () =>
        new Response(new ReadableStream<Uint8Array>({ pull: () => never<void>() }), {
          status: 503,
        }),
    })
    const pending = outcome(client.next())
    await sleep(30)
    client.close()
    expect(await withTimeout(pending, 1000, 'close while the error body is read')).toEqual({
      result: { done: true, value: undefined },
    })
  })

  it("a Request's own signal ends the stream, as it would end fetch(request)", async () => {
    const controller = new AbortController()
    const reason = new Error('request aborted')
    const client = fetchEventStream(
      new Request('http://127.0.0.1/', { signal: controller.signal }),
      {
        fetch: async () =>
          new Response(new ReadableStream<Uint8Array>({ pull: () => never<void>() }), {
            headers: SSE,
          }),
      },
    )
    const pending = outcome(client.next())
    await sleep(30)
    controller.abort(reason)
    expect(await withTimeout(pending, 1000, 'the Request signal')).toEqual({ error: reason })
  })

  it('judges a connection healthy by when its bytes came, not by when a slow consumer noticed the break', async () => {
    let requests = 0
    const client = fetchEventStream('http://127.0.0.1/', {
      retryMs: 1,
      maxRetries: 2,
      healthyAfterMs: 20,
      fetch: async () => {
        requests++
        return new Response(breakingBody(`data: ${requests}\n\n`), { headers: SSE })
      },
    })
    const result = await withTimeout(
      outcome(
        (async () => {
          // Slower per event than healthyAfterMs: the break is noticed after it.
          for await (const _event of client) await sleep(40)
        })(),
      ),
      5000,
      'a flapping server and a slow consumer',
    )
    expect((result as { error: SseError }).error.code).toBe('retries-exhausted')
    expect(requests).toBe(3)
  })

  it('refuses an async-iterable body (Node) that a reconnect would send empty', () => {
    async function* parts() {
      yield new TextEncoder().encode('question')
    }
    expect(() =>
      fetchEventStream('http://127.0.0.1/', {
        method: 'POST',
        body: parts() as unknown as BodyInit,
        reconnect: 'always',
      }),
    ).toThrow(TypeError)
  })

  it('starts the backoff over after a connection still sending bytes healthyAfterMs after it opened', async () => {
    const retries: RetryContext[] = []
    let requests = 0
    const client = fetchEventStream('http://127.0.0.1/', {
      retryMs: 1,
      healthyAfterMs: 20,
      onRetry: (context) => retries.push(context),
      fetch: async () => {
        if (++requests > 3) return new Response(null, { status: 204 })
        let step = 0
        const body = new ReadableStream<Uint8Array>({
          async pull(stream) {
            step++
            if (step === 1) stream.enqueue(new TextEncoder().encode('data: x\n\n'))
            else if (step === 2) {
              await sleep(40)
              stream.enqueue(new TextEncoder().encode(': still here\n\n'))
            } else stream.error(new Error('connection reset'))
          },
        })
        return new Response(body, { headers: SSE })
      },
    })
    await withTimeout(
      (async () => {
        for await (const _event of client);
      })(),
      5000,
      'three healthy connections',
    )
    expect(retries.map((retry) => retry.attempt)).toEqual([1, 1, 1])
  })

  it('passes init along to a resume URL but takes a resume Request as it is', async () => {
    for (const kind of ['url', 'request'] as const) {
      const seen: RequestInit[] = []
      const client = fetchEventStream('http://127.0.0.1/chat', {
        method: 'POST',
        body: '{}',
        credentials: 'include',
        integrity: 'sha256-AAAA',
        retryMs: 1,
        resume: () =>
          kind === 'url'
            ? 'http://127.0.0.1/resume'
            : new Request('http://127.0.0.1/resume', { credentials: 'omit' }),
        fetch: async (_input, init) => {
          seen.push(init ?? {})
          return seen.length === 1
            ? new Response(breakingBody('id: 1\ndata: a\n\n'), { headers: SSE })
            : new Response(null, { status: 204 })
        },
      })
      await withTimeout(
        (async () => {
          for await (const _event of client);
        })(),
        2000,
        `resume with a ${kind}`,
      )
      expect(seen).toHaveLength(2)
      const resumed = seen[1] as RequestInit
      expect(resumed.method).toBeUndefined()
      expect(resumed.body).toBeUndefined()
      expect(resumed.integrity).toBeUndefined()
      expect(resumed.credentials).toBe(kind === 'url' ? 'include' : undefined)
    }
  })

  it('checks the MIME type as WPT format-mime-* does: a trailing ";" is fine, a bogus type is not', async () => {
    const outcomeFor = async (contentType: string) => {
      const client = fetchEventStream('http://127.0.0.1/', {
        reconnect: 'never',
        fetch: async () =>
          new Response('data: x\n\n', { headers: { 'content-type': contentType } }),
      })
      return withTimeout(outcome(client.next()), 1000, contentType)
    }
    expect(await outcomeFor('text/event-stream;')).toEqual({
      result: { done: false, value: expect.objectContaining({ data: 'x' }) },
    })
    for (const bogus of ['x bogus', 'text/x-bogus']) {
      const result = await outcomeFor(bogus)
      expect((result as { error: SseError }).error.code).toBe('bad-content-type')
    }
  })

  it('EventSource with maxRetries fails for good after that many network errors (a CORS block looks like one)', async () => {
    let requests = 0
    const source = new EventSource('http://127.0.0.1/', {
      retryMs: 1,
      maxRetries: 2,
      fetch: async () => {
        requests++
        throw new TypeError('Failed to fetch')
      },
    })
    await withTimeout(
      (async () => {
        while (source.readyState !== EventSource.CLOSED) await sleep(5)
      })(),
      2000,
      'the source closes',
    )
    expect(requests).toBe(3)
  })
})
