import { connect, type Socket } from 'node:net'
import { createHub, type HubQueuePolicy, lastEventIdFrom } from '@ssekit/core'
import { sendEventStream } from '@ssekit/node'
import { delay, waitFor, withTimeout } from '@ssekit/test-support'
import { afterEach, describe, expect, it } from 'vitest'
import { type Collector, collect } from '../src/_collector.ts'
import { startServer } from '../src/_loopback-server.ts'
import { report, size } from '../src/_params.ts'

const collectors: Collector[] = []
const sockets: Socket[] = []
afterEach(() => {
  for (const collector of collectors.splice(0)) collector.close()
  for (const socket of sockets.splice(0)) socket.destroy()
})

/** A client that sends its request and then never reads: its socket buffers fill and stay full. */
function stalledClient(port: number, path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`)
      socket.pause()
      resolve(socket)
    })
    socket.once('error', reject)
    sockets.push(socket)
  })
}

describe('slow and stalled readers next to fast ones', () => {
  it('fast readers get every event in order while stalled ones are cut off by their policy', async () => {
    const events = size(4_000, 40_000)
    const disconnects: HubQueuePolicy[] = []
    const drops: number[] = []
    const hub = createHub({
      history: { maxEvents: events + 10, maxBytes: 256 * 1_048_576 },
      onDisconnect: ({ policy }) => disconnects.push(policy),
      onDrop: ({ dropped }) => drops.push(dropped),
    })
    const closeReasons: string[] = []
    await using server = await startServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://localhost')
      const policy = (url.searchParams.get('policy') ?? 'disconnect') as HubQueuePolicy
      // `drain=node`: a hub queue too large to fill, so node's drainTimeout is what cuts it.
      const byNode = url.searchParams.get('drain') === 'node'
      // Fast readers keep the hub's default bound (1000 events); the stalled ones a small one.
      const fast = url.searchParams.get('fast') === '1'
      const controller = new AbortController()
      response.once('close', () => controller.abort())
      void sendEventStream(
        request,
        response,
        hub.subscribe('feed', {
          lastEventId: lastEventIdFrom(request),
          signal: controller.signal,
          queue: {
            policy,
            maxEvents: byNode ? 1_000_000 : fast ? 1_000 : 200,
            maxBytes: 1 << 30,
            waitTimeout: 500,
          },
        }),
        {
          heartbeat: false,
          highWaterMark: 16_384,
          // Longer than the hub needs to apply its policy (the queue fills within a second), so
          // the policy acts first; then node's drainTimeout frees the socket, which a stalled
          // reader would otherwise hold (bounded: the pump stops pulling when the socket is full).
          drainTimeout: byNode ? 1_000 : 3_000,
          onClose: ({ reason }) =>
            closeReasons.push(`${byNode ? 'drainTimeout' : policy}:${reason}`),
        },
      )
    })
    try {
      const fast = Array.from({ length: 5 }, () =>
        collect(`${server.url}/?policy=disconnect&fast=1`, { reconnect: 'never' }),
      )
      collectors.push(...fast)
      await stalledClient(server.port, '/?policy=disconnect')
      await stalledClient(server.port, '/?policy=drop-oldest')
      await stalledClient(server.port, '/?policy=wait')
      await stalledClient(server.port, '/?drain=node')
      await waitFor(() => hub.stats().subscribers === 9, 5_000, 'all nine subscribed')
      await waitFor(() => fast.every((client) => client.opens === 1), 5_000, 'fast clients open')
      // 4 KiB events: enough to fill the stalled sockets' kernel buffers many times over.
      const payload = 'x'.repeat(4_000)
      for (let index = 1; index <= events; index++) {
        await hub.publish('feed', { data: `${index} ${payload}` })
        // A steady publisher (about 4 MB/s), which the fast readers keep up with.
        if (index % 10 === 0) await delay(1)
      }
      await withTimeout(
        waitFor(
          () => fast.every((client) => client.data.length === events),
          30_000,
          `fast readers ${JSON.stringify({ received: fast.map((client) => client.data.length), closeReasons })}`,
        ),
        35_000,
        'every fast reader has every event',
      )
      for (const client of fast) {
        expect(client.data.map((data) => Number(data.split(' ')[0]))).toEqual(
          Array.from({ length: events }, (_, index) => index + 1),
        )
        expect(client.error).toBeUndefined()
      }
      // The stalled readers met their policies: `disconnect` was cut, `drop-oldest` dropped and
      // marked a gap, `wait` was cut after its waitTimeout; node's drainTimeout destroyed sockets
      // that never drained.
      // `wait` cuts a subscriber waitTimeout after its queue filled, which may be after the fast
      // readers are done: wait for it, bounded.
      await waitFor(
        () => disconnects.length >= 2,
        5_000,
        `both hub policies disconnected ${JSON.stringify(disconnects)}`,
      )
      expect(disconnects.sort()).toEqual(['disconnect', 'wait'])
      expect(drops.reduce((total, count) => total + count, 0)).toBeGreaterThan(0)
      await waitFor(
        () => closeReasons.length === 4,
        10_000,
        `the stalled streams closed by their policies ${JSON.stringify({ closeReasons, disconnects, drops: drops.length, stats: hub.stats() })}`,
      )
      expect(closeReasons.sort()).toEqual([
        'disconnect:cancel',
        'drainTimeout:cancel',
        'drop-oldest:cancel',
        'wait:cancel',
      ])
      expect(hub.stats().subscribers).toBe(5)
      report('slow readers (events, hub disconnects by policy, drops, close reasons)', {
        events,
        disconnects,
        dropped: drops.reduce((total, count) => total + count, 0),
        closeReasons,
      })
    } finally {
      await hub.close()
    }
  })

  it('a slow (not stalled) reader on drop-oldest gets a gap event, then events in order', async () => {
    const hub = createHub()
    const received: { type: string; data: string }[] = []
    await using server = await startServer((request, response) => {
      const controller = new AbortController()
      response.once('close', () => controller.abort())
      void sendEventStream(
        request,
        response,
        hub.subscribe('feed', {
          signal: controller.signal,
          queue: { policy: 'drop-oldest', maxEvents: 20 },
        }),
        { heartbeat: false, highWaterMark: 1_024 },
      )
    })
    const socket = await stalledClient(server.port, '/')
    await waitFor(() => hub.stats().subscribers === 1, 5_000, 'subscribed')
    const payload = 'y'.repeat(2_000)
    const total = 3_000
    for (let index = 1; index <= total; index++)
      await hub.publish('feed', { data: `${index} ${payload}` })
    // Now read slowly and parse what arrives.
    let text = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      text += chunk
    })
    socket.resume()
    await hub.publish('feed', { data: 'last' })
    await withTimeout(
      waitFor(() => text.includes('data: last'), 10_000, 'the last event'),
      12_000,
      'the slow reader catches up',
    )
    for (const frame of text.split('\n\n')) {
      const type = /^event: (.*)$/m.exec(frame)?.[1] ?? 'message'
      const data = /^data: (.*)$/m.exec(frame)?.[1]
      if (data !== undefined) received.push({ type, data })
    }
    const gaps = received.filter((event) => event.type === 'gap')
    expect(gaps.length).toBeGreaterThan(0)
    const numbers = received
      .filter((event) => event.type === 'message' && event.data !== 'last')
      .map((event) => Number(event.data.split(' ')[0]))
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b))
    const dropped = gaps.reduce(
      (sum, gap) => sum + (JSON.parse(gap.data) as { dropped: number }).dropped,
      0,
    )
    // Nothing vanished silently: what arrived plus what the gaps announced is everything.
    expect(numbers.length + dropped).toBe(total)
    await hub.close()
  })
})
