import { createServer, request as httpRequest } from 'node:http'
import { closeEventStreams, sendEventStream } from '@ssekit/node'
import { deferred, withTimeout } from '@ssekit/test-support'
import { describe, expect, it } from 'vitest'
import { openEventStreams } from '../src/_registry.ts'
import { connect, createHelloServer, listen } from './_helpers.ts'

describe('closeEventStreams', () => {
  it('ends every stream with its own jittered retry and a final event, then settles', async () => {
    const settlements: Promise<string>[] = []
    const { server, returned } = createHelloServer((request, response, source) =>
      settlements.push(sendEventStream(request, response, source)),
    )
    const { url, close } = await listen(server)
    try {
      const clients = await Promise.all(Array.from({ length: 5 }, () => connect(url)))
      for (const client of clients) expect(await client.nextEvent('hello')).toBe('data: hello')
      expect(openEventStreams.size).toBe(5)
      const result = await withTimeout(
        closeEventStreams({
          graceMs: 3_000,
          retry: 1_000,
          retryJitter: 1_000,
          finalEvent: { event: 'shutdown', data: 'bye', retry: 5 },
        }),
        5_000,
        'closeEventStreams',
      )
      expect(result).toEqual({ closed: 5, destroyed: 0 })
      const retries: number[] = []
      for (const client of clients) {
        const frame = await client.nextFrame('the final event')
        const lines = frame.split('\n')
        expect(lines).toContain('event: shutdown')
        expect(lines).toContain('data: bye')
        const retryLine = lines.find((line) => line.startsWith('retry: '))
        expect(retryLine, frame).toMatch(/^retry: \d+$/)
        retries.push(Number(retryLine?.slice('retry: '.length)))
        expect(await client.ended('a clean end')).toBe('')
      }
      for (const retry of retries) {
        expect(retry).toBeGreaterThanOrEqual(1_000)
        expect(retry).toBeLessThan(2_000)
      }
      // Five draws from 1 000 values all equal has a chance of 1e-12.
      expect(new Set(retries).size).toBeGreaterThan(1)
      expect(await Promise.all(settlements)).toEqual(Array(5).fill('shutdown'))
      expect(returned()).toBe(5)
      expect(openEventStreams.size).toBe(0)
    } finally {
      await close()
    }
  })

  it('destroys at graceMs a stream whose client stopped reading', async () => {
    const started = deferred<{ settled: Promise<string> }>()
    const server = createServer((request, response) => {
      started.resolve({
        settled: sendEventStream(
          request,
          response,
          function* () {
            for (let id = 1; ; id++) yield { id: String(id), data: 'y'.repeat(1_000) }
          },
          { drainTimeout: false },
        ),
      })
    })
    const { url, close } = await listen(server)
    try {
      const clientRequest = httpRequest(url, { agent: false }, (response) => {
        response.once('data', () => response.pause())
        response.on('error', () => {})
      })
      clientRequest.on('error', () => {})
      clientRequest.end()
      const { settled } = await withTimeout(started.promise, 5_000, 'the stream starts')
      // Let the socket buffers fill up so that the final event cannot be flushed.
      await new Promise((resolve) => setTimeout(resolve, 500))
      const result = await withTimeout(
        closeEventStreams({ graceMs: 300 }),
        5_000,
        'closeEventStreams with a stalled client',
      )
      expect(result).toEqual({ closed: 0, destroyed: 1 })
      expect(await withTimeout(settled, 2_000, 'the destroyed stream settles')).toBe('shutdown')
      expect(openEventStreams.size).toBe(0)
      clientRequest.destroy()
    } finally {
      await close()
    }
  })

  it('ends ReadableStream sources too, writing the retry hint only between frames', async () => {
    const encoder = new TextEncoder()
    const cancelled: string[] = []
    const partialWritten = deferred()
    const byteStream = (name: string, chunk: string) =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(encoder.encode(chunk))
        },
        // Asked for more: the chunk above has been read and written to the response.
        pull() {
          if (name === 'partial') partialWritten.resolve()
        },
        cancel() {
          cancelled.push(name)
        },
      })
    const server = createServer((request, response) => {
      const whole = request.url === '/whole'
      void sendEventStream(
        request,
        response,
        whole
          ? byteStream('whole', 'data: whole frame\n\n')
          : byteStream('partial', 'data: half a fra'),
      )
    })
    const { url, close } = await listen(server)
    try {
      const whole = await connect(`${url}/whole`)
      expect(await whole.nextFrame('the whole frame')).toBe('data: whole frame')
      const partial = await connect(`${url}/partial`)
      await withTimeout(partialWritten.promise, 2_000, 'the partial frame is written')
      const result = await withTimeout(
        closeEventStreams({ retry: 700, retryJitter: 0 }),
        5_000,
        'closeEventStreams',
      )
      expect(result).toEqual({ closed: 2, destroyed: 0 })
      expect(await whole.nextFrame('the retry hint')).toBe('retry: 700')
      expect(await whole.ended('the end')).toBe('')
      // A retry line here would have joined the half-written frame.
      expect(await partial.ended('the end without a retry line')).toBe('data: half a fra')
      expect(cancelled.sort()).toEqual(['partial', 'whole'])
    } finally {
      await close()
    }
  })

  it('counts as closed a stream whose response ended, though its source ignores the signal', async () => {
    const release = deferred()
    const returned = deferred()
    const started = deferred<{ settled: Promise<string> }>()
    const server = createServer((request, response) => {
      started.resolve({
        settled: sendEventStream(
          request,
          response,
          async function* () {
            try {
              yield { data: 'hello' }
              // Deaf to its signal: only the test lets it go.
              await release.promise
            } finally {
              returned.resolve()
            }
          },
          { heartbeat: false },
        ),
      })
    })
    const { url, close } = await listen(server)
    try {
      const client = await connect(url)
      expect(await client.nextEvent('hello')).toBe('data: hello')
      const { settled } = await withTimeout(started.promise, 2_000, 'the stream starts')
      const result = await withTimeout(
        closeEventStreams({ graceMs: 300, retry: 100, retryJitter: 0 }),
        5_000,
        'closeEventStreams with a deaf source',
      )
      expect(result).toEqual({ closed: 1, destroyed: 0 })
      expect(await client.nextFrame('the retry hint')).toBe('retry: 100')
      expect(await client.ended('a clean end')).toBe('')
      release.resolve()
      await withTimeout(returned.promise, 2_000, "the source's finally runs once released")
      expect(await withTimeout(settled, 2_000, 'the stream settles')).toBe('shutdown')
      expect(openEventStreams.size).toBe(0)
    } finally {
      release.resolve()
      await close()
    }
  })

  it('resolves at once with nothing open, and rejects bad options with a TypeError', async () => {
    expect(await closeEventStreams()).toEqual({ closed: 0, destroyed: 0 })
    await expect(closeEventStreams({ graceMs: -1 })).rejects.toThrow(TypeError)
    await expect(closeEventStreams({ retry: 1.5 })).rejects.toThrow(/retry/)
    await expect(closeEventStreams({ finalEvent: { event: 'bye\nid: 1' } })).rejects.toMatchObject({
      code: 'invalid-field',
      field: 'event',
    })
  })
})
