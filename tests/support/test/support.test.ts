import {
  createServer as createHttpServer,
  request as httpRequest,
  type IncomingMessage,
} from 'node:http'
import { createConnection, createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import {
  deferred,
  delay,
  frameReader,
  freePort,
  serveOnLoopback,
  startNodeChild,
  startRedisServer,
  waitFor,
  waitUntil,
  withTimeout,
} from '@ssekit/test-support'
import { describe, expect, test } from 'vitest'

/** Sends one inline command to 127.0.0.1:`port`; resolves with the first `lines` reply lines. */
function redisCommand(port: number, command: string, lines = 1): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    let reply = ''
    socket.setEncoding('utf8')
    socket.once('error', reject)
    socket.on('data', (text: string) => {
      reply += text
      const received = reply.split('\r\n').slice(0, -1)
      if (received.length >= lines) {
        socket.destroy()
        resolve(received.slice(0, lines))
      }
    })
    socket.write(`${command}\r\n`)
  })
}

describe('bounded waits', () => {
  test('withTimeout passes the value through and rejects naming the label', async () => {
    expect(await withTimeout(Promise.resolve(7), 1000, 'resolves')).toBe(7)
    await expect(withTimeout(new Promise(() => {}), 20, 'never settles')).rejects.toThrow(
      'timed out after 20 ms: never settles',
    )
  })

  test('waitUntil returns the accepted value, and fails with the last value read', async () => {
    let count = 0
    expect(
      await waitUntil(
        () => ++count,
        (value) => value >= 3,
        1000,
        'counts to 3',
      ),
    ).toBe(3)
    await expect(
      waitUntil(
        () => 'stuck',
        () => false,
        60,
        'never done',
      ),
    ).rejects.toThrow('timed out after 60 ms: never done (last value: "stuck")')
  })

  test('waitFor resolves once the check holds and fails with its label otherwise', async () => {
    let ready = false
    void delay(30).then(() => {
      ready = true
    })
    await waitFor(() => ready, 1000, 'becomes ready')
    expect(ready).toBe(true)
    await expect(waitFor(() => false, 40, 'never true')).rejects.toThrow('never true')
  })

  test('deferred resolves with the value given from outside', async () => {
    const gate = deferred<string>()
    gate.resolve('open')
    expect(await gate.promise).toBe('open')
  })
})

test('freePort returns a loopback port another server can listen on', async () => {
  const port = await freePort()
  expect(port).toBeGreaterThan(0)
  const server = createServer()
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', resolve)
    }),
    5000,
    'listens on the free port',
  )
  await new Promise((resolve) => server.close(resolve))
})

test('frameReader splits a body on blank lines across chunk boundaries, then reads the rest', async () => {
  const bytes = new TextEncoder().encode(':\n\nid: 1\ndata: é\n\nid: 2\n\ntail')
  const split = bytes.indexOf(0xc3) + 1
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      // One cut inside the two bytes of `é`, one inside the first blank line.
      controller.enqueue(bytes.subarray(0, 2))
      controller.enqueue(bytes.subarray(2, split))
      controller.enqueue(bytes.subarray(split))
      controller.close()
    },
  })
  const frames = frameReader(body)
  expect(await frames.next('comment')).toBe(':')
  expect(await frames.next('first event')).toBe('id: 1\ndata: é')
  expect(await frames.next('second event')).toBe('id: 2')
  expect(await frames.rest('the rest')).toBe('tail')
  expect(await frames.next('after the end')).toBeUndefined()
  expect(() => frameReader(null)).toThrow(TypeError)
})

describe('serveOnLoopback', () => {
  /** Opens a response that the server never ends; resolves once its head arrived. */
  const openEndless = (origin: string) =>
    withTimeout(
      new Promise<IncomingMessage>((resolve, reject) => {
        httpRequest(`${origin}/`, { agent: false }, resolve).once('error', reject).end()
      }),
      5000,
      'endless response opens',
    )
  const endlessServer = () =>
    createHttpServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' })
      response.write(':\n\n')
    })

  test('close() ends connections that would never end by themselves', async () => {
    const server = await serveOnLoopback(endlessServer())
    expect(server.origin).toBe(`http://127.0.0.1:${server.port}`)
    const response = await openEndless(server.origin)
    const ended = new Promise((resolve) => response.once('close', resolve))
    await server.close()
    await withTimeout(ended, 5000, 'client sees its connection end')
    await expect(fetch(server.origin)).rejects.toThrow()
  })

  test('{ listen: false } waits for a server that was already told to listen', async () => {
    const http = endlessServer()
    http.listen(0, '127.0.0.1')
    await using server = await serveOnLoopback(http, { listen: false })
    const response = await openEndless(server.origin)
    expect(response.statusCode).toBe(200)
  })
})

describe('startRedisServer', () => {
  test('a durable server keeps acknowledged writes across kill and restart', async () => {
    await using redis = await startRedisServer({ streamNodeMaxEntries: 4 })
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`)
    expect(await withTimeout(redisCommand(redis.port, 'SET kept yes'), 5000, 'SET')).toEqual([
      '+OK',
    ])
    const config = redisCommand(redis.port, 'CONFIG GET stream-node-max-entries', 5)
    expect((await withTimeout(config, 5000, 'CONFIG GET'))[4]).toBe('4')

    await redis.kill()
    await expect(redisCommand(redis.port, 'PING')).rejects.toThrow('ECONNREFUSED')

    await redis.restart()
    expect(await withTimeout(redisCommand(redis.port, 'GET kept', 2), 5000, 'GET')).toEqual([
      '$3',
      'yes',
    ])
  })

  test('a frozen server answers nothing until thawed, and stop() ends it', async () => {
    const redis = await startRedisServer({ durable: false })
    try {
      redis.freeze()
      const reply = redisCommand(redis.port, 'PING')
      await expect(withTimeout(reply, 300, 'PING while frozen')).rejects.toThrow(
        'PING while frozen',
      )
      redis.thaw()
      expect(await withTimeout(reply, 5000, 'PING after thaw')).toEqual(['+PONG'])
    } finally {
      await redis.stop()
    }
    await expect(redisCommand(redis.port, 'PING')).rejects.toThrow('ECONNREFUSED')
  })
})

test('startNodeChild runs a TypeScript file and talks JSON lines both ways', async () => {
  await using child = startNodeChild(fileURLToPath(new URL('./_echo-child.ts', import.meta.url)), {
    env: { GREETING: 'hello' },
  })
  const byType = (type: string) => (messages: readonly { type: string }[]) =>
    messages.find((message) => message.type === type)
  expect(await child.until(byType('ready'), 10_000, 'child ready')).toEqual({
    type: 'ready',
    env: 'hello',
  })
  child.send({ type: 'ping', value: 1 })
  expect(await child.until(byType('echo'), 5000, 'echo')).toEqual({
    type: 'echo',
    command: { type: 'ping', value: 1 },
  })
  expect(child.messages.map((message) => message.type)).toEqual(['ready', 'echo'])

  child.send({ type: 'exit' })
  await expect(child.until(byType('never'), 5000, 'a message never sent')).rejects.toThrow(
    'a message never sent: the child exited (3)',
  )
})
