import { randomBytes } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { createGunzip } from 'node:zlib'
import { sendEventStream } from '@ssekit/node'
import { deferred, withTimeout } from '@ssekit/test-support'
import compression from 'compression'
import express from 'express'
import { describe, expect, it } from 'vitest'
import { type FrameReader, listen, readFrames } from './_helpers.ts'

/**
 * An Express 5 app behind compression(): `/events` yields event 1, then waits until the test has
 * read it before it produces event 2, so a buffered event 1 would deadlock and time out.
 */
async function startApp(cacheControl?: string) {
  const gates: { resolve: () => void }[] = []
  const app = express()
  app.use(compression())
  app.get('/events', (request, response) => {
    const gate = deferred()
    gates.push({ resolve: () => gate.resolve() })
    void sendEventStream(
      request,
      response,
      async function* () {
        yield { id: '1', data: 'first' }
        await gate.promise
        yield { id: '2', data: 'second' }
      },
      cacheControl === undefined ? {} : { headers: { 'Cache-Control': cacheControl } },
    )
  })
  const server = await listen(app.listen(0, '127.0.0.1'))
  return { server, gates }
}

function open(url: string): Promise<{ encoding: string | undefined; frames: FrameReader }> {
  return withTimeout(
    new Promise((resolve, reject) => {
      const clientRequest = httpRequest(
        url,
        { agent: false, headers: { 'Accept-Encoding': 'gzip' } },
        (response) => {
          const encoding = response.headers['content-encoding']
          const body = encoding === 'gzip' ? response.pipe(createGunzip()) : response
          resolve({ encoding, frames: readFrames(body) })
        },
      )
      clientRequest.on('error', reject)
      clientRequest.end()
    }),
    5_000,
    'connect to the Express app',
  )
}

describe('Express 5 + compression()', () => {
  it('delivers each event at once (no-transform keeps compression off)', async () => {
    const { server, gates } = await startApp()
    try {
      const { encoding, frames } = await open(`${server.url}/events`)
      expect(encoding).toBeUndefined()
      expect(await frames.nextEvent('event 1 before event 2 exists')).toBe('id: 1\ndata: first')
      gates[0]?.resolve()
      expect(await frames.nextEvent('event 2')).toBe('id: 2\ndata: second')
      expect(await frames.ended('the end')).toBe('')
    } finally {
      await server.close()
    }
  })

  it('delivers each event at once even when compression is on, through res.flush()', async () => {
    const { server, gates } = await startApp('no-cache')
    try {
      const { encoding, frames } = await open(`${server.url}/events`)
      expect(encoding).toBe('gzip')
      expect(await frames.nextFrame('the opening comment, gzipped')).toBe(':')
      expect(await frames.nextEvent('event 1 before event 2 exists')).toBe('id: 1\ndata: first')
      gates[0]?.resolve()
      expect(await frames.nextEvent('event 2')).toBe('id: 2\ndata: second')
      expect(await frames.ended('the end')).toBe('')
    } finally {
      await server.close()
    }
  })

  it('keeps streaming with backpressure when compression applies (Cache-Control overridden)', async () => {
    const app = express()
    app.use(compression())
    const count = 60
    app.get('/events', (request, response) => {
      void sendEventStream(
        request,
        response,
        async function* () {
          // Incompressible data past zlib's buffer, so the response fills and must drain.
          for (let index = 0; index < count; index++) {
            yield { id: String(index), data: randomBytes(24_000).toString('base64') }
          }
        },
        { headers: { 'Cache-Control': 'no-cache' }, drainTimeout: 5000 },
      )
    })
    const server = await listen(app.listen(0, '127.0.0.1'))
    try {
      const text = await withTimeout(
        new Promise<string>((resolve, reject) => {
          httpRequest(
            `${server.url}/events`,
            { headers: { 'accept-encoding': 'gzip' } },
            (response) => {
              expect(response.headers['content-encoding']).toBe('gzip')
              let body = ''
              response
                .pipe(createGunzip())
                .setEncoding('utf8')
                .on('data', (chunk: string) => {
                  body += chunk
                })
                .on('end', () => resolve(body))
                .on('error', reject)
            },
          )
            .on('error', reject)
            .end()
        }),
        10_000,
        'every event through gzip',
      )
      expect(text.match(/^id: /gm)).toHaveLength(count)
    } finally {
      await server.close()
    }
  })
})
