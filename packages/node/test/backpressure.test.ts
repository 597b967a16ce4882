import { createServer, request as httpRequest, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { createEventStream } from '@ssekit/core'
import { sendEventStream } from '@ssekit/node'
import { deferred, withTimeout } from '@ssekit/test-support'
import { describe, expect, it } from 'vitest'
import { listen } from './_helpers.ts'

const eventData = 'x'.repeat(1_000)
// One event on the wire: "id: N\ndata: <1000 x>\n\n".
const eventBytes = (id: number) => `id: ${id}\ndata: ${eventData}\n\n`.length

describe('a reader that stops reading', () => {
  it.each([
    ['an async generator', 'source'],
    ['a ReadableStream from createEventStream', 'stream'],
  ] as const)(
    'keeps the server buffer bounded and stops %s, then delivers everything',
    async (_, kind) => {
      let produced = 0
      let producedBytes = 0
      const responseReady = deferred<ServerResponse>()
      const highWaterMark = 65_536
      const server = createServer((request, response) => {
        responseReady.resolve(response)
        const source = async function* () {
          for (let id = 1; ; id++) {
            produced = id
            producedBytes += eventBytes(id)
            yield { id: String(id), data: eventData }
            // Let timers run now and then, so a writer that ignores backpressure fails the
            // assertions below instead of starving the event loop.
            if (id % 64 === 0) await new Promise((resolve) => setImmediate(resolve))
          }
        }
        const options = { highWaterMark, heartbeat: false } as const
        void (kind === 'source'
          ? sendEventStream(request, response, source, options)
          : sendEventStream(request, response, createEventStream(source, options)))
      })
      const { url, close } = await listen(server)
      try {
        let received = ''
        const paused = deferred<() => void>()
        const clientRequest = httpRequest(url, { agent: false }, (response) => {
          response.setEncoding('utf8')
          response.on('data', (text: string) => {
            received += text
          })
          response.once('data', () => {
            response.pause()
            paused.resolve(() => response.resume())
          })
        })
        clientRequest.on('error', () => {})
        clientRequest.end()
        const resume = await withTimeout(paused.promise, 5_000, 'the first bytes arrive')
        const response = await responseReady.promise

        await sleep(1_000)
        const producedAfterOneSecond = produced
        await sleep(1_000)
        // Two seconds without reading: the source stood still in the second one, and what the
        // server holds in user space is bounded by the high-water marks, not by the run time.
        expect(produced).toBe(producedAfterOneSecond)
        expect(response.writableLength).toBeLessThanOrEqual(highWaterMark + 64 * 1024)
        // Whatever ran ahead sits in the kernel's socket buffers (a few MB on loopback at most).
        expect(producedBytes).toBeLessThan(32 * 1024 * 1024)

        resume()
        const target = produced
        await withTimeout(
          (async () => {
            while (!received.includes(`id: ${target}\n`)) await sleep(10)
          })(),
          10_000,
          `the client reads up to event ${target}`,
        )
        const ids = [...received.matchAll(/^id: (\d+)$/gm)].map((match) => Number(match[1]))
        // Nothing lost, nothing repeated, in order.
        expect(ids.slice(0, target)).toEqual(
          Array.from({ length: target }, (_, index) => index + 1),
        )
        clientRequest.destroy()
      } finally {
        await close()
      }
    },
  )

  it('destroys a connection whose reader stalls longer than drainTimeout', async () => {
    const started = deferred<{ settled: Promise<string> }>()
    const returned = deferred()
    let serverSocket: Socket | undefined
    const server = createServer((request, response) => {
      serverSocket = request.socket
      started.resolve({
        settled: sendEventStream(
          request,
          response,
          async function* () {
            try {
              for (let id = 1; ; id++) yield { id: String(id), data: eventData }
            } finally {
              returned.resolve()
            }
          },
          { drainTimeout: 300, heartbeat: false },
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
      const reason = await withTimeout(settled, 5_000, 'the stalled stream settles')
      expect(reason).toBe('cancel')
      await withTimeout(returned.promise, 2_000, "the source's return() ran")
      expect(serverSocket?.destroyed).toBe(true)
      clientRequest.destroy()
    } finally {
      await close()
    }
  })
})
