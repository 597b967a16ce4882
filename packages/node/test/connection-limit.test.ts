import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http'
import { createConnectionLimit, sendEventStream } from '@ssekit/node'
import { deferred, waitFor, withTimeout } from '@ssekit/test-support'
import { afterEach, describe, expect, it } from 'vitest'
import { connect, listen, type TestServer } from './_helpers.ts'

let server: TestServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

describe('createConnectionLimit', () => {
  it('does not count a client that left before admit(), so the key is not locked out', async () => {
    const limit = createConnectionLimit({ max: 1, key: () => 'user-1' })
    const early = deferred<{ request: IncomingMessage; response: ServerResponse }>()
    let requests = 0
    server = await listen(
      createServer((request, response) => {
        requests++
        // The first request stands for a handler still awaiting auth: the test admits it later.
        if (requests === 1) {
          early.resolve({ request, response })
          return
        }
        if (!limit.admit(request, response)) return
        sendEventStream(request, response, async function* ({ signal }) {
          yield { data: 'hello' }
          await new Promise((resolve) => signal.addEventListener('abort', resolve))
        })
      }),
    )

    const leaving = httpRequest(server.url, { agent: false })
    leaving.on('error', () => {})
    leaving.end()
    const { request, response } = await withTimeout(early.promise, 2_000, 'the request arrives')
    const responseClosed = new Promise((resolve) => response.once('close', resolve))
    leaving.destroy()
    await withTimeout(responseClosed, 2_000, 'the server sees the client leave')

    expect(limit.admit(request, response)).toBe(false)
    expect(limit.count('user-1')).toBe(0)
    expect(limit.keys).toBe(0)
    expect(response.headersSent).toBe(false)

    const client = await connect(server.url)
    expect(client.response.statusCode).toBe(200)
    expect(await client.nextEvent('hello')).toBe('data: hello')
    expect(limit.count('user-1')).toBe(1)
    const overCap = await connect(server.url)
    expect(overCap.response.statusCode).toBe(429)
    overCap.destroy()
    client.destroy()
    await waitFor(
      () => limit.count('user-1') === 0,
      2_000,
      'the slot is freed when the client leaves',
    )
  })
})
