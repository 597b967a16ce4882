import { request as httpRequest } from 'node:http'
import { createHub } from '@ssekit/core'
import { withTimeout } from '@ssekit/test-support'
import { afterEach, describe, expect, it } from 'vitest'
import { createDemoApp } from '../../../examples/demo/src/app.ts'
import { Figures } from '../../../examples/demo/src/figures.ts'
import type { Logger } from '../../../examples/demo/src/log.ts'
import { type LoopbackServer, startServer } from '../src/_loopback-server.ts'
import { report } from '../src/_params.ts'

const silent: Logger = { info: () => {}, warn: () => {}, error: () => {} }
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

async function startDemo(): Promise<LoopbackServer> {
  const hub = createHub()
  const app = createDemoApp({ hub, figures: new Figures('stress', 'memory', silent), log: silent })
  const server = await startServer((request, response) => app.handle(request, response))
  cleanups.push(async () => {
    app.stop()
    await server.close()
    await hub.close()
  })
  return server
}

/**
 * POSTs a chunked body of up to `limit` bytes, written only as fast as the server reads it, and
 * resolves with the status and how many bytes went out before the answer came.
 */
function postEndless(port: number, limit: number): Promise<{ status: number; sent: number }> {
  return new Promise((resolve, reject) => {
    let sent = 0
    let answered = false
    const request = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/api/chat',
        headers: { 'content-type': 'application/json' },
      },
      (response) => {
        answered = true
        response.resume()
        response.once('end', () => resolve({ status: response.statusCode ?? 0, sent }))
      },
    )
    request.once('error', (error) => (answered ? undefined : reject(error)))
    const chunk = Buffer.from(`{"prompt":"${'x'.repeat(65_000)}`)
    const pump = () => {
      while (!answered && sent < limit) {
        sent += chunk.length
        if (!request.write(chunk)) {
          request.once('drain', pump)
          return
        }
      }
      if (!answered) request.end()
    }
    pump()
  })
}

describe('the demo POST body limit', () => {
  it('refuses a body declared too large with 413 before reading it', async () => {
    const server = await startDemo()
    const response = await fetch(`${server.url}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'x'.repeat(1_000_000) }),
    })
    expect(response.status).toBe(413)
    expect(await response.json()).toEqual({
      error: expect.stringContaining('limited to 8192 bytes'),
    })
  })

  it('stops an endless chunked body with 413 after the limit, without buffering the rest', async () => {
    const server = await startDemo()
    const result = await withTimeout(postEndless(server.port, 256 * 1_048_576), 20_000, 'the 413')
    expect(result.status).toBe(413)
    report('demo: endless chunked POST answered 413 after (bytes sent)', result.sent)
    // What went out before the answer: the limit plus socket buffers, never the 256 MiB offered.
    expect(result.sent).toBeLessThan(32 * 1_048_576)
  })
})
