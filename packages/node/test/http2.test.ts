import { once } from 'node:events'
import {
  connect as connectHttp2,
  constants,
  createServer,
  type IncomingHttpHeaders,
} from 'node:http2'
import { closeEventStreams, sendEventStream } from '@ssekit/node'
import { deferred, withTimeout } from '@ssekit/test-support'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openEventStreams } from '../src/_registry.ts'
import { listen, readFrames, type TestServer } from './_helpers.ts'

let warnings: Error[] = []
const onWarning = (warning: Error) => warnings.push(warning)
beforeEach(() => {
  warnings = []
  process.on('warning', onWarning)
})
afterEach(() => {
  process.off('warning', onWarning)
})

async function startH2c(
  source: Parameters<typeof sendEventStream>[2],
  options?: Parameters<typeof sendEventStream>[3],
): Promise<{ server: TestServer; streams: Promise<string>[] }> {
  const streams: Promise<string>[] = []
  const server = await listen(
    createServer((request, response) => {
      streams.push(sendEventStream(request, response, source, options))
    }),
  )
  return { server, streams }
}

describe('sendEventStream on HTTP/2 (h2c, compatibility API)', () => {
  it('streams with no connection-specific header, and cancels when the client resets', async () => {
    const returned = deferred()
    const { server, streams } = await startH2c(
      async function* ({ signal, lastEventId }) {
        try {
          yield { id: '1', data: `after ${lastEventId}` }
          await new Promise((resolve) => signal.addEventListener('abort', resolve))
        } finally {
          returned.resolve()
        }
      },
      { headers: { Connection: 'keep-alive', 'X-Custom': 'yes' } },
    )
    const session = connectHttp2(server.url)
    try {
      const stream = session.request({ ':path': '/events', 'last-event-id': '41' })
      const [headers] = (await withTimeout(once(stream, 'response'), 5_000, 'h2 response')) as [
        IncomingHttpHeaders,
      ]
      expect(headers[':status']).toBe(200)
      expect(headers['content-type']).toBe('text/event-stream; charset=utf-8')
      expect(headers['cache-control']).toBe('no-cache, no-transform')
      expect(headers['x-custom']).toBe('yes')
      expect(headers.connection).toBeUndefined()
      expect(headers['transfer-encoding']).toBeUndefined()
      const frames = readFrames(stream)
      expect(await frames.nextFrame('the opening comment')).toBe(':')
      expect(await frames.nextEvent('the first event')).toBe('id: 1\ndata: after 41')
      stream.close(constants.NGHTTP2_CANCEL)
      expect(await withTimeout(streams[0] as Promise<string>, 5_000, 'h2 stream settles')).toBe(
        'cancel',
      )
      await withTimeout(returned.promise, 2_000, "the source's return() ran")
      expect(openEventStreams.size).toBe(0)
      expect(warnings.map((warning) => warning.name)).not.toContain('UnsupportedWarning')
    } finally {
      session.close()
      await server.close()
    }
  })

  it('ends the h2 stream cleanly when the source is done, and on closeEventStreams', async () => {
    const { server, streams } = await startH2c(async function* ({ lastEventId, signal }) {
      yield { data: 'only' }
      if (lastEventId === 'wait') {
        await new Promise((resolve) => signal.addEventListener('abort', resolve))
      }
    })
    const session = connectHttp2(server.url)
    try {
      const finite = readFrames(session.request({ ':path': '/' }))
      expect(await finite.nextEvent('the only event')).toBe('data: only')
      expect(await finite.ended('the end of the h2 stream')).toBe('')
      expect(await withTimeout(streams[0] as Promise<string>, 2_000, 'settles')).toBe('end')

      const open = readFrames(session.request({ ':path': '/?lastEventId=wait' }))
      expect(await open.nextEvent('the event before shutdown')).toBe('data: only')
      const result = await withTimeout(
        closeEventStreams({ graceMs: 2_000, retry: 100, retryJitter: 0 }),
        5_000,
        'closeEventStreams on h2',
      )
      expect(result).toEqual({ closed: 1, destroyed: 0 })
      expect(await open.nextFrame('the retry hint')).toBe('retry: 100')
      expect(await open.ended('the end after the retry hint')).toBe('')
      expect(await withTimeout(streams[1] as Promise<string>, 2_000, 'settles')).toBe('shutdown')
    } finally {
      session.close()
      await server.close()
    }
  })
})
