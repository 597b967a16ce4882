import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http'
import { connect as netConnect } from 'node:net'
import { createEventStream, createHub, SseError } from '@ssekit/core'
import { heartbeatStats } from '@ssekit/core/adapter'
import { type SendEventStreamOptions, sendEventStream } from '@ssekit/node'
import { deferred, withTimeout } from '@ssekit/test-support'
import { afterEach, describe, expect, it } from 'vitest'
import { openEventStreams } from '../src/_registry.ts'
import { connect, listen, type TestServer } from './_helpers.ts'

type Handler = (request: IncomingMessage, response: ServerResponse) => void

let server: TestServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

async function serve(handler: Handler): Promise<string> {
  server = await listen(createServer(handler))
  return server.url
}

/** Serves `source` and hands the test each stream's settled promise. */
async function serveStream(
  source: Parameters<typeof sendEventStream>[2],
  options?: SendEventStreamOptions,
): Promise<{ url: string; settled: Promise<string> }> {
  const settled = deferred<Promise<string>>()
  const url = await serve((request, response) => {
    settled.resolve(sendEventStream(request, response, source, options))
  })
  return { url, settled: settled.promise.then((promise) => promise) }
}

describe('sendEventStream on node:http', () => {
  it('leaves Connection to node: keep-alive for a client that keeps the connection, close for one that asked', async () => {
    const { url } = await serveStream([{ data: 'x' }])
    const connectionHeader = (headers: Record<string, string>) =>
      withTimeout(
        new Promise<string | undefined>((resolve, reject) => {
          const agent = new Agent({ keepAlive: true })
          httpRequest(url, { headers, agent }, (response) => {
            resolve(response.headers.connection)
            response.resume()
            response.on('end', () => agent.destroy())
          })
            .on('error', reject)
            .end()
        }),
        5000,
        'the response headers',
      )
    expect(await connectionHeader({})).toBe('keep-alive')
    expect(await connectionHeader({ connection: 'close' })).toBe('close')
  })

  it('replaces a default header given in another case instead of sending both', async () => {
    const { url } = await serveStream([], {
      headers: { 'cache-control': 'no-cache', 'content-type': 'text/event-stream' },
    })
    const raw = await withTimeout(
      new Promise<string>((resolve, reject) => {
        const socket = netConnect(Number(new URL(url).port), '127.0.0.1', () => {
          socket.end('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')
        })
        let text = ''
        socket.setEncoding('latin1')
        socket.on('data', (chunk: string) => {
          text += chunk
        })
        socket.on('end', () => resolve(text))
        socket.on('error', reject)
      }),
      5000,
      'the raw response',
    )
    const head = raw.slice(0, raw.indexOf('\r\n\r\n')).toLowerCase()
    expect(head.match(/^cache-control:/gm)).toHaveLength(1)
    expect(head).toContain('cache-control: no-cache\r\n')
    expect(head.match(/^content-type:/gm)).toHaveLength(1)
  })

  it('sends the headers and first bytes before the first event exists', async () => {
    const release = deferred()
    const { url, settled } = await serveStream(async function* () {
      await release.promise
      yield { event: 'first', data: 'hello' }
    })
    const client = await connect(url)
    expect(client.response.statusCode).toBe(200)
    expect(client.response.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(client.response.headers['cache-control']).toBe('no-cache, no-transform')
    expect(client.response.headers['x-accel-buffering']).toBe('no')
    // The test client asks for `Connection: close`, and node answers it (see below for keep-alive).
    expect(client.response.headers.connection).toBe('close')
    expect(client.response.headers['content-length']).toBeUndefined()
    expect(await client.nextFrame('the opening comment')).toBe(':')
    release.resolve()
    expect(await client.nextFrame('the first event')).toBe('event: first\ndata: hello')
    expect(await client.ended('the end of the response')).toBe('')
    expect(await withTimeout(settled, 2_000, 'sendEventStream settles')).toBe('end')
  })

  it('sends `retry:` first when the option is set', async () => {
    const { url } = await serveStream([{ data: 'x' }], { retry: 2500 })
    const client = await connect(url)
    expect(await client.nextFrame('the retry line')).toBe('retry: 2500')
    expect(await client.nextFrame('the event')).toBe('data: x')
  })

  it('sends heartbeat comments while the source is quiet', async () => {
    const { url } = await serveStream(
      async function* ({ signal }) {
        await new Promise((resolve) => signal.addEventListener('abort', resolve))
      },
      { heartbeat: 50 },
    )
    const client = await connect(url)
    expect(await client.nextFrame('the opening comment')).toBe(':')
    expect(await client.nextFrame('a first heartbeat')).toBe(':')
    expect(await client.nextFrame('a second heartbeat')).toBe(':')
    client.destroy()
  })

  it('passes Last-Event-ID from the header, else from the lastEventId query', async () => {
    const seen: (string | undefined)[] = []
    const { url } = await serveStream(({ lastEventId }) => {
      seen.push(lastEventId)
      return [{ data: lastEventId ?? 'none' }]
    })
    const fromHeader = await connect(`${url}/?lastEventId=query`, { 'Last-Event-ID': 'header-7' })
    expect(await fromHeader.nextEvent('the header id')).toBe('data: header-7')
    const fromQuery = await connect(`${url}/?lastEventId=query-3`)
    expect(await fromQuery.nextEvent('the query id')).toBe('data: query-3')
    const without = await connect(url)
    expect(await without.nextEvent('no id')).toBe('data: none')
    expect(seen).toEqual(['header-7', 'query-3', undefined])
  })

  it('ends the response cleanly when the source throws, without the error message', async () => {
    const closes: string[] = []
    const { url, settled } = await serveStream(
      async function* () {
        yield { data: 'before' }
        throw new Error('secret database password')
      },
      {
        onError: () => ({ event: 'failed', data: 'try later' }),
        onClose: (s) => closes.push(s.reason),
      },
    )
    const client = await connect(url)
    expect(await client.nextEvent('the event before the error')).toBe('data: before')
    expect(await client.nextEvent('the final event')).toBe('event: failed\ndata: try later')
    const rest = await client.ended('a clean end after the error')
    expect(rest).not.toContain('secret')
    expect(await withTimeout(settled, 2_000, 'settles after an error')).toBe('error')
    expect(closes).toEqual(['error'])
  })

  it('ends the response cleanly when the signal passed in options aborts', async () => {
    const controller = new AbortController()
    const returned = deferred()
    const { url, settled } = await serveStream(
      async function* ({ signal }) {
        try {
          yield { data: 'one' }
          await new Promise((resolve) => signal.addEventListener('abort', resolve))
        } finally {
          returned.resolve()
        }
      },
      { signal: controller.signal },
    )
    const client = await connect(url)
    expect(await client.nextEvent('the first event')).toBe('data: one')
    controller.abort()
    expect(await client.ended('a clean end on abort')).toBe('')
    expect(await withTimeout(settled, 2_000, 'settles on abort')).toBe('abort')
    await withTimeout(returned.promise, 2_000, "the source's return() ran")
  })

  it('adds extra headers but refuses ones that break the framing', async () => {
    const { url } = await serveStream([{ data: 'x' }], {
      headers: { 'Access-Control-Allow-Origin': '*' },
    })
    const client = await connect(url)
    expect(client.response.headers['access-control-allow-origin']).toBe('*')
    const errors: unknown[] = []
    const badUrl = await serve((request, response) => {
      try {
        void sendEventStream(request, response, [], { headers: { 'Content-Length': '10' } })
      } catch (error) {
        errors.push(error)
        response.end()
      }
    })
    const bad = await connect(badUrl)
    await bad.ended('the refused response')
    expect(errors).toHaveLength(1)
    expect(errors[0]).toBeInstanceOf(TypeError)
    expect(String(errors[0])).toContain('Content-Length')
  })

  it('pipes a ReadableStream from createEventStream with the same backpressure and cancel', async () => {
    const returned = deferred()
    const body = createEventStream(async function* ({ signal }) {
      try {
        for (let id = 1; ; id++) {
          yield { id: String(id), data: `tick ${id}` }
          if (id >= 2) await new Promise((resolve) => signal.addEventListener('abort', resolve))
        }
      } finally {
        returned.resolve()
      }
    })
    const { url, settled } = await serveStream(body)
    const client = await connect(url)
    expect(await client.nextEvent('event 1')).toBe('id: 1\ndata: tick 1')
    expect(await client.nextEvent('event 2')).toBe('id: 2\ndata: tick 2')
    client.destroy()
    expect(await withTimeout(settled, 2_000, 'settles after the client left')).toBe('cancel')
    await withTimeout(returned.promise, 2_000, "the source's return() ran")
  })

  it('answers a HEAD request with the headers only, without starting the source', async () => {
    let started = 0
    const { url, settled } = await serveStream(async function* () {
      started++
      for (let id = 0; id < 1_000; id++) {
        yield { data: 'nobody reads this' }
        await new Promise((resolve) => setImmediate(resolve))
      }
    })
    const response = await withTimeout(
      new Promise<IncomingMessage>((resolve, reject) => {
        const clientRequest = httpRequest(url, { method: 'HEAD', agent: false }, resolve)
        clientRequest.on('error', reject)
        clientRequest.end()
      }),
      5_000,
      'the HEAD response',
    )
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(await withTimeout(settled, 2_000, 'HEAD settles')).toBe('end')
    expect(started).toBe(0)
  })

  it('releases a source that already exists on HEAD, as a client that leaves would', async () => {
    const heartbeatsBefore = heartbeatStats().streams
    const closes: string[] = []
    const producerDone = deferred()
    const body = createEventStream(
      async function* () {
        try {
          for (let id = 0; id < 100_000; id++) yield { data: 'nobody reads this' }
        } finally {
          producerDone.resolve()
        }
      },
      { onClose: ({ reason }) => closes.push(reason) },
    )
    const hub = createHub({ queue: { policy: 'drop-oldest' } })
    const subscription = hub.subscribe('news')
    let generatorReturned = false
    const generator = (function* () {
      try {
        yield { data: 'first' }
        yield { data: 'never read' }
      } finally {
        generatorReturned = true
      }
    })()
    // Started by the application before it handed it over.
    generator.next()
    const sources = [body, subscription, generator]
    const settlements: Promise<string>[] = []
    const url = await serve((request, response) => {
      settlements.push(sendEventStream(request, response, sources[settlements.length] ?? []))
    })
    try {
      for (const _ of sources) {
        const response = await withTimeout(
          new Promise<IncomingMessage>((resolve, reject) => {
            const clientRequest = httpRequest(url, { method: 'HEAD', agent: false }, resolve)
            clientRequest.on('error', reject)
            clientRequest.end()
          }),
          5_000,
          'a HEAD response',
        )
        expect(response.statusCode).toBe(200)
        response.resume()
      }
      expect(await withTimeout(Promise.all(settlements), 2_000, 'every HEAD settles')).toEqual([
        'end',
        'end',
        'end',
      ])
      await withTimeout(producerDone.promise, 2_000, "the ReadableStream's producer finished")
      expect(closes).toEqual(['cancel'])
      expect(heartbeatStats().streams).toBe(heartbeatsBefore)
      expect(hub.stats().subscribers).toBe(0)
      expect(generatorReturned).toBe(true)
    } finally {
      await withTimeout(hub.close(), 2_000, 'hub.close()')
    }
  })

  it('throws a TypeError for arguments that cannot work', async () => {
    const errors: unknown[] = []
    const url = await serve((request, response) => {
      const attempts: (() => unknown)[] = [
        () => sendEventStream(request, response, 'text' as never),
        () => sendEventStream(request, response, 42 as never),
        () => sendEventStream(request, response, new ReadableStream<Uint8Array>(), { retry: 1000 }),
        () => sendEventStream(request, response, [], { drainTimeout: -1 }),
        () => sendEventStream({} as never, response, []),
      ]
      for (const attempt of attempts) {
        try {
          attempt()
        } catch (error) {
          errors.push(error)
        }
      }
      try {
        void sendEventStream(request, response, [], { heartbeat: -5 })
      } catch (error) {
        // A stream option that cannot work: core's typed error, thrown before anything was sent.
        if (
          SseError.isInstance(error) &&
          error.code === 'invalid-option' &&
          !response.headersSent
        ) {
          errors.push(new TypeError('invalid-option as expected'))
        } else errors.push(error)
      }
      response.write('already started')
      try {
        void sendEventStream(request, response, [])
      } catch (error) {
        errors.push(error)
      }
      response.end()
    })
    const client = await connect(url)
    await client.ended('the response')
    expect(errors).toHaveLength(7)
    for (const error of errors) expect(error).toBeInstanceOf(TypeError)
    expect(String(errors[0])).toContain('wrap it')
    expect(String(errors[2])).toContain('retry')
    expect(String(errors[5])).toContain('invalid-option as expected')
    expect(String(errors[6])).toContain('already sent')
  })

  it('settles at once when the client left before the stream started', async () => {
    const arrived = deferred<{ request: IncomingMessage; response: ServerResponse }>()
    const url = await serve((request, response) => arrived.resolve({ request, response }))
    const clientRequest = httpRequest(url, { agent: false })
    clientRequest.on('error', () => {})
    clientRequest.end()
    const { request, response } = await withTimeout(arrived.promise, 2_000, 'the request arrives')
    const responseClosed = new Promise((resolve) => response.once('close', resolve))
    clientRequest.destroy()
    await withTimeout(responseClosed, 2_000, 'the server sees the client leave')
    const closes: string[] = []
    const reason = sendEventStream(request, response, [{ data: 'never sent' }], {
      onClose: (summary) => closes.push(summary.reason),
    })
    expect(await withTimeout(reason, 2_000, 'settles for a client already gone')).toBe('cancel')
    expect(closes).toEqual(['cancel'])
    expect(openEventStreams.size).toBe(0)
  })
})
