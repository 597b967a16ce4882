import { type ClientRequest, request as httpRequest } from 'node:http'
import { delay, waitFor, withTimeout } from '@ssekit/test-support'
import { afterEach, describe, expect, it } from 'vitest'
import { type Child, type Message, startChild } from '../src/_child.ts'
import { report, size } from '../src/_params.ts'

const children: Child[] = []
afterEach(async () => {
  for (const child of children.splice(0)) await child.kill()
})

interface SoakClient {
  request: ClientRequest
  ticks: number
  news: number[]
  opened: boolean
  ended: boolean
}

/** A light client: counts `event: tick` frames and records `news` data, without a full parser. */
function connect(port: number): SoakClient {
  const client: SoakClient = {
    request: undefined as never,
    ticks: 0,
    news: [],
    opened: false,
    ended: false,
  }
  let buffer = ''
  client.request = httpRequest({ host: '127.0.0.1', port, path: '/', agent: false }, (response) => {
    client.opened = true
    response.setEncoding('utf8')
    response.on('data', (text: string) => {
      buffer += text
      let end = buffer.indexOf('\n\n')
      while (end !== -1) {
        const frame = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        if (frame.startsWith('event: tick')) client.ticks++
        else if (frame.startsWith('event: news')) client.news.push(Number(frame.split('data: ')[1]))
        end = buffer.indexOf('\n\n')
      }
    })
    response.on('close', () => {
      client.ended = true
    })
  })
  client.request.on('error', () => {
    client.ended = true
  })
  client.request.end()
  return client
}

async function measure(child: Child, label: string): Promise<Message> {
  const from = child.messages.length
  child.send({ type: 'measure' })
  return child.next('measure', 30_000, label, from)
}

const connections = size(300, 2_000)
const seconds = size(5, 120)

describe('soak', () => {
  it(`${connections} connections, one event per second each plus broadcasts, for ${seconds} s: every event delivered, memory flat`, async () => {
    const child = startChild('./_soak-server.ts')
    children.push(child)
    const { port } = await child.next('ready', 20_000, 'the soak server starts')
    const baseline = await measure(child, 'baseline')
    const clients: SoakClient[] = []
    for (let index = 0; index < connections; index++) {
      clients.push(connect(port as number))
      if (index % 100 === 99) await delay(20)
    }
    await waitFor(() => clients.every((client) => client.opened), 30_000, 'every connection open')
    const connected = await measure(child, 'all connected')
    const started = Date.now()
    const samples: { heapUsed: number; rss: number }[] = []
    let broadcasts = 0
    while (Date.now() - started < seconds * 1_000) {
      const from = child.messages.length
      child.send({ type: 'broadcast', index: ++broadcasts })
      await child.next('broadcasted', 10_000, `broadcast ${broadcasts}`, from)
      await delay(500)
      if (broadcasts % 4 === 0) {
        const sample = await measure(child, `sample ${broadcasts}`)
        samples.push({ heapUsed: sample['heapUsed'] as number, rss: sample['rss'] as number })
      }
    }
    await withTimeout(
      waitFor(
        () => clients.every((client) => client.news.length === broadcasts),
        20_000,
        'all broadcasts',
      ),
      25_000,
      'every broadcast delivered',
    )
    const elapsed = (Date.now() - started) / 1_000
    const end = await measure(child, 'end of soak')
    for (const client of clients) {
      expect(client.ended).toBe(false)
      expect(client.news).toEqual(Array.from({ length: broadcasts }, (_, index) => index + 1))
      // One tick per second: at least (elapsed - 2) of them, whatever the scheduling.
      expect(client.ticks).toBeGreaterThanOrEqual(Math.floor(elapsed) - 2)
    }
    const ticks = clients.reduce((total, client) => total + client.ticks, 0)
    for (const client of clients) client.request.destroy()
    const closedAll = await withTimeout(
      (async () => {
        for (;;) {
          const result = await measure(child, 'after disconnect')
          if (result['open'] === 0) return result
          await delay(100)
        }
      })(),
      20_000,
      'every stream closed',
    )
    const heaps = samples.map((sample) => sample.heapUsed)
    const perConnection =
      ((connected['heapUsed'] as number) - (baseline['heapUsed'] as number)) / connections
    report(`soak: ${connections} connections, ${Math.round(elapsed)} s`, {
      ticksDelivered: ticks,
      broadcastsPerClient: broadcasts,
      broadcastsDelivered: broadcasts * connections,
      heapPerConnectionKiB: Math.round(perConnection / 102.4) / 10,
      heapAfterGcMiB: {
        baseline: mib(baseline['heapUsed']),
        connected: mib(connected['heapUsed']),
        end: mib(end['heapUsed']),
        closed: mib(closedAll['heapUsed']),
      },
      peakHeapMiB: mib(end['peakHeap']),
      peakRssMiB: mib(end['peakRss']),
      samplesHeapAfterGcMiB: heaps.map(mib),
    })
    // Memory flat while the soak ran: the last sample within 25% (plus 2 MiB) of the first.
    const first = heaps[0] ?? (connected['heapUsed'] as number)
    const last = heaps.at(-1) ?? (end['heapUsed'] as number)
    expect(last).toBeLessThan(first * 1.25 + 2 * 1_048_576)
    // Every stream and subscription let go once the clients left.
    expect(closedAll['subscribers']).toBe(0)
    expect(closedAll['closed']).toBe(connections)
    expect(closedAll['heapUsed'] as number).toBeLessThan(
      (baseline['heapUsed'] as number) + 4 * 1_048_576,
    )
  })
})

function mib(bytes: unknown): number {
  return Math.round(((bytes as number) / 1_048_576) * 10) / 10
}
