import { createServer, request as httpRequest, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { createHub } from '@ssekit/core'
import { sendEventStream } from '@ssekit/node'
import { withTimeout } from '@ssekit/test-support'
import { describe, expect, it } from 'vitest'
import { listen, readFrames } from './_helpers.ts'

// What an idle stream adds to its response is paid once per open connection: issue 7 (fan-out
// memory) keeps it to the two listeners that detect a client leaving.
describe('an idle stream', () => {
  it("listens for the response's close and error only; drain once the response was full", async () => {
    const hub = createHub()
    let response: ServerResponse | undefined
    let listeners: Record<string, number> | undefined
    const server = createServer((request, serverResponse) => {
      response = serverResponse
      const count = (name: string) => serverResponse.listenerCount(name)
      const before = { close: count('close'), error: count('error'), finish: count('finish') }
      void sendEventStream(request, serverResponse, ({ lastEventId }) =>
        hub.subscribe('idle', { lastEventId }),
      )
      listeners = {
        close: count('close') - before.close,
        error: count('error') - before.error,
        finish: count('finish') - before.finish,
        drain: count('drain'),
      }
    })
    const { url, close } = await listen(server)
    const clientRequest = httpRequest(`${url}/`)
    try {
      const frames = await withTimeout(
        new Promise<ReturnType<typeof readFrames>>((resolve, reject) => {
          clientRequest.on('response', (incoming) => resolve(readFrames(incoming)))
          clientRequest.on('error', reject)
          clientRequest.end()
        }),
        5_000,
        'response headers',
      )
      expect(await frames.nextFrame('opening comment')).toBe(':')
      expect(await frames.nextFrame('id-only block')).toMatch(/^id: /)
      expect(listeners).toEqual({ close: 1, error: 1, finish: 0, drain: 0 })
      // A write the socket cannot take at once adds the drain listener, and only then. (Frames go
      // to the socket itself, already chunked, so it is the socket that drains.)
      const socket = (response as ServerResponse).socket as Socket
      const socketDrainListeners = socket.listenerCount('drain')
      const original = socket.write
      const write = original.bind(socket) as (chunk: Uint8Array) => boolean
      socket.write = ((chunk: Uint8Array) => {
        write(chunk)
        return false
      }) as typeof socket.write
      await hub.publish('idle', { data: 'fills the buffer' })
      expect(socket.listenerCount('drain')).toBe(socketDrainListeners + 1)
      expect((response as ServerResponse).listenerCount('drain')).toBe(0)
      socket.write = original
    } finally {
      clientRequest.destroy()
      await hub.close()
      await close()
    }
  })
})
