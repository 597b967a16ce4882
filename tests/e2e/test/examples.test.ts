import { connect } from 'node:http2'
import { fetchEventStream } from '@ssekit/fetch-client'
import { freePort, type RedisServer, startRedisServer, withTimeout } from '@ssekit/test-support'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type ExampleProcess, runExample } from '../src/example-process.ts'

const running: ExampleProcess[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((example) => example.stop()))
})

async function start(name: string, file = 'server.ts', environment: Record<string, string> = {}) {
  const port = await freePort()
  const example = runExample(name, file, { PORT: String(port), ...environment })
  running.push(example)
  return { example, base: `http://127.0.0.1:${port}`, port }
}

/** The first two events of a ticker, the second time resuming after `Last-Event-ID: 41`. */
async function readTicks(url: string): Promise<{ fresh: string[]; resumed: string | undefined }> {
  const fresh: string[] = []
  const client = fetchEventStream(url, { reconnect: 'never' })
  for await (const event of client) {
    fresh.push(`${event.type}/${event.lastEventId}`)
    if (fresh.length === 2) break
  }
  const resumed = await fetchEventStream(url, { initialLastEventId: '41', reconnect: 'never' })
    .next()
    .then((result) => result.value?.lastEventId)
  return { fresh, resumed }
}

async function waitForHttp(url: string): Promise<void> {
  const deadline = Date.now() + 30_000
  while (
    !(await fetch(url).then(
      () => true,
      () => false,
    ))
  ) {
    if (Date.now() > deadline) throw new Error(`${url} never answered`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe('the examples start and stream', () => {
  for (const name of ['express', 'fastify', 'hono-node']) {
    it(`${name}: ticks in order, resumed after Last-Event-ID`, async () => {
      const { base } = await start(name)
      await waitForHttp(base)
      const ticks = await withTimeout(readTicks(`${base}/events`), 10_000, `${name} ticks`)
      expect(ticks).toEqual({ fresh: ['tick/1', 'tick/2'], resumed: '42' })
    })
  }

  it('express: the stream is not compressed though compression() runs on every route', async () => {
    const { base } = await start('express')
    await waitForHttp(base)
    const response = await fetch(`${base}/events`, { headers: { 'accept-encoding': 'gzip' } })
    expect(response.headers.get('content-type')).toContain('text/event-stream')
    expect(response.headers.get('content-encoding')).toBeNull()
    await response.body?.cancel()
  })

  it('http2: streams over cleartext HTTP/2 without connection headers', async () => {
    const { example, port } = await start('http2')
    await example.waitForOutput('HTTP/2 cleartext')
    const session = connect(`http://127.0.0.1:${port}`)
    try {
      const { headers, text } = await withTimeout(
        new Promise<{ headers: Record<string, unknown>; text: string }>((resolve, reject) => {
          const stream = session.request({ ':path': '/events' })
          let headers: Record<string, unknown> = {}
          let text = ''
          stream.on('response', (received) => {
            headers = received
          })
          stream.on('data', (chunk: Buffer) => {
            text += chunk.toString()
            if (text.includes('id: 1\n')) {
              stream.close()
              resolve({ headers, text })
            }
          })
          stream.on('error', reject)
        }),
        10_000,
        'the first tick over HTTP/2',
      )
      expect(headers[':status']).toBe(200)
      expect(headers['connection']).toBeUndefined()
      expect(text).toContain('"httpVersion":"2.0"')
    } finally {
      session.close()
    }
  })

  it('llm-resume: the client resumes the dropped answer and prints it whole', async () => {
    const { example, base } = await start('llm-resume')
    await example.waitForOutput('POST http://')
    const client = runExample('llm-resume', 'client.ts', { URL: base })
    running.push(client)
    expect(await client.exited()).toBe(0)
    const printed = client.output()
    expect(printed).toMatch(/\[connection lost after id \S+: resuming\]/)
    const answer = printed.replace(/\n\[connection lost after id \S+: resuming\]\n/, '')
    expect(answer).toContain(
      'You asked: "What if my connection drops?". This answer keeps being generated on the server whatever happens to your connection, and a GET with Last-Event-ID picks it up where it broke.\n[done]',
    )
  })

  describe('redis-cluster', () => {
    let redis: RedisServer
    beforeAll(async () => {
      redis = await startRedisServer({ durable: false })
    })
    afterAll(async () => {
      await redis?.stop()
    })

    it('two processes behind one Redis: published on one, received on the other', async () => {
      const { example } = await start('redis-cluster', 'start.ts', {
        REDIS_URL: redis.url,
        PORT2: String(await freePort()),
      })
      await example.waitForOutput('✓ published on')
      expect(example.output()).toMatch(
        /received on http:\/\/127\.0\.0\.1:\d+: \{ text: 'hello from/,
      )
    })

    it('without REDIS_URL starts its own redis-server, as its README says', async () => {
      const { example } = await start('redis-cluster', 'start.ts', {
        REDIS_URL: '',
        PORT: String(await freePort()),
        PORT2: String(await freePort()),
      })
      await example.waitForOutput('✓ published on')
    })
  })
})
