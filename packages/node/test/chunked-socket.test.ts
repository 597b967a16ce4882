import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { connect, type Socket } from 'node:net'
import { createHub } from '@ssekit/core'
import { sendEventStream } from '@ssekit/node'
import { deferred, withTimeout } from '@ssekit/test-support'
import { describe, expect, it } from 'vitest'
import { listen } from './_helpers.ts'

// Frames of a chunked HTTP/1.1 body go straight to the socket, already chunked. These tests read
// the raw bytes, so a framing mistake shows up as a wrong body or a broken keep-alive connection.

/** A raw connection that collects every byte the server sends. */
async function rawClient(url: string) {
  const { port } = new URL(url)
  const socket: Socket = connect(Number(port), '127.0.0.1')
  await withTimeout(
    new Promise((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    }),
    5_000,
    'connect',
  )
  socket.setEncoding('latin1')
  let received = ''
  let ended = false
  const waiters = new Set<() => void>()
  socket.on('data', (text: string) => {
    received += text
    for (const wake of waiters) wake()
  })
  socket.on('end', () => {
    ended = true
    for (const wake of waiters) wake()
  })
  return {
    socket,
    send: (text: string) => socket.write(text),
    /** Waits until what was received so far passes `check` (or the server closed). */
    until: (check: (text: string) => boolean, label: string) =>
      withTimeout(
        new Promise<string>((resolve) => {
          const wake = () => {
            if (check(received) || ended) {
              waiters.delete(wake)
              resolve(received)
            }
          }
          waiters.add(wake)
          wake()
        }),
        5_000,
        label,
      ),
  }
}

/** The body of a chunked response that starts at `text`, and what follows its last chunk. */
function dechunk(text: string): { body: string; rest: string } {
  let position = 0
  let body = ''
  for (;;) {
    const lineEnd = text.indexOf('\r\n', position)
    if (lineEnd === -1) throw new Error(`no chunk size line at ${position}`)
    const size = Number.parseInt(text.slice(position, lineEnd), 16)
    if (!Number.isInteger(size)) throw new Error(`bad chunk size ${text.slice(position, lineEnd)}`)
    const start = lineEnd + 2
    if (text.slice(start + size, start + size + 2) !== '\r\n') {
      throw new Error(`chunk of ${size} bytes not followed by CRLF`)
    }
    if (size === 0) return { body, rest: text.slice(start + 2) }
    body += text.slice(start, start + size)
    position = start + size + 2
  }
}

function split(response: string): { head: string; body: string } {
  const end = response.indexOf('\r\n\r\n')
  return { head: response.slice(0, end), body: response.slice(end + 4) }
}

describe('frames written to the socket, already chunked', () => {
  it('are well-formed chunks, end with the last chunk, and the connection serves the next request', async () => {
    const server = createServer((request: IncomingMessage, response: ServerResponse) => {
      if (request.url === '/events') {
        void sendEventStream(request, response, [{ id: '1', data: 'one' }, { data: 'two' }], {
          heartbeat: false,
        })
      } else response.end('next request served')
    })
    const served = await listen(server)
    const client = await rawClient(served.url)
    try {
      client.send('GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n')
      const first = await client.until((text) => text.includes('\r\n0\r\n\r\n'), 'the last chunk')
      const { head, body } = split(first)
      expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
      expect(head.toLowerCase()).toContain('transfer-encoding: chunked')
      const { body: events, rest } = dechunk(body)
      expect(events).toBe(':\n\nid: 1\ndata: one\n\ndata: two\n\n')
      expect(rest).toBe('')
      client.send('GET /after HTTP/1.1\r\nHost: localhost\r\n\r\n')
      const both = await client.until((text) => text.includes('next request served'), 'reuse')
      expect(both.slice(first.length)).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*next request served$/)
    } finally {
      client.socket.destroy()
      await served.close()
    }
  })

  it('carry a broadcast to every stream in one socket write each, framed on its own connection', async () => {
    const hub = createHub()
    const socketWrites: number[] = []
    const server = createServer((request, response) => {
      // Counted on the socket: node's own res.write() would make four writes of each chunk.
      const socket = response.socket as Socket
      const index = socketWrites.push(0) - 1
      const write = socket.write.bind(socket) as (...values: unknown[]) => boolean
      socket.write = ((...values: unknown[]) => {
        socketWrites[index] = (socketWrites[index] as number) + 1
        return write(...values)
      }) as typeof socket.write
      void sendEventStream(request, response, ({ lastEventId }) =>
        hub.subscribe('news', { lastEventId }),
      )
    })
    const served = await listen(server)
    const clients = await Promise.all([1, 2, 3].map(() => rawClient(served.url)))
    try {
      for (const client of clients) client.send('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n')
      for (const client of clients)
        await client.until((text) => /id: \S+\n\n\r\n$/.test(text), 'open')
      const before = [...socketWrites]
      const id = await hub.publish('news', { data: 'flash' })
      expect(socketWrites.map((count, index) => count - (before[index] as number))).toEqual([
        1, 1, 1,
      ])
      for (const client of clients) {
        const text = await client.until((received) => received.includes('flash'), 'the broadcast')
        const chunk = `id: ${id}\ndata: flash\n\n`
        expect(text.endsWith(`${chunk.length.toString(16)}\r\n${chunk}\r\n`)).toBe(true)
      }
    } finally {
      for (const client of clients) client.socket.destroy()
      await hub.close()
      await served.close()
    }
  })

  it("never reuse the frame of the application's own byte chunk, even when it sends the same array again", async () => {
    const shared = new TextEncoder().encode('data: 1\n\n')
    const firstReceived = deferred<void>()
    const server = createServer((request, response) => {
      let step = 0
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          step++
          if (step === 1) controller.enqueue(shared)
          else if (step === 2) {
            // The same array object, changed once the client has the first chunk.
            await firstReceived.promise
            shared.set(new TextEncoder().encode('data: 2\n\n'))
            controller.enqueue(shared)
          } else controller.close()
        },
      })
      void sendEventStream(request, response, body)
    })
    const served = await listen(server)
    const client = await rawClient(served.url)
    try {
      client.send('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n')
      await client.until((received) => received.includes('data: 1'), 'the first chunk')
      firstReceived.resolve()
      const text = await client.until((received) => received.endsWith('\r\n0\r\n\r\n'), 'the end')
      expect(dechunk(split(text).body).body).toBe('data: 1\n\ndata: 2\n\n')
    } finally {
      client.socket.destroy()
      await served.close()
    }
  })

  it('leave an HTTP/1.0 response (not chunked) to node, which closes the connection at its end', async () => {
    const server = createServer((request, response) => {
      void sendEventStream(request, response, [{ data: 'old client' }], { heartbeat: false })
    })
    const served = await listen(server)
    const client = await rawClient(served.url)
    try {
      client.send('GET / HTTP/1.0\r\n\r\n')
      const text = await client.until(() => false, 'the connection closing')
      const { head, body } = split(text)
      expect(head.toLowerCase()).not.toContain('transfer-encoding')
      expect(body).toBe(':\n\ndata: old client\n\n')
    } finally {
      client.socket.destroy()
      await served.close()
    }
  })
})
