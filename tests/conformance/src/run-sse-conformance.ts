/**
 * @module
 * The one SSE conformance suite. Every server adapter's test file calls {@link runSseConformance}
 * once per way of serving (in the spirit of unjs/crossws `test/tests.ts` and srvx `addTests`); the
 * checks are written here once and talk to the server over real loopback sockets. A gap is a named
 * flag in `supports`, reported as a skipped test that names it, never a silent skip.
 */

import { waitUntil, withTimeout } from '@ssekit/test-support'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { floodEventSize, type KeyStats, secretErrorText } from '../fixtures/scenarios.ts'
import {
  createHttp1Client,
  createHttp2Client,
  type Frame,
  type OpenStream,
  type SseTestClient,
} from './_client.ts'

/** What a target can do; `false` declares a known gap and skips the matching check by name. */
export interface ConformanceSupport {
  /** `?lastEventId=` resumes like the `Last-Event-ID` header (for clients that cannot set headers). */
  lastEventIdQuery: boolean
  /** The server notices a client that leaves and cancels the source. */
  clientAbort: boolean
  /** A reader that stops reading pauses the producer (memory stays bounded). */
  boundedProducer: boolean
  /** Every open stream gets its heartbeat comments, also after other streams closed. */
  heartbeat: boolean
  /**
   * Every one of many clients leaving at once is noticed. When `false` (a runtime that loses some
   * disconnects), the connect/abort cycles check that at least 90 % of the streams closed, that
   * the count settles, and that no stream closed for a wrong reason, and say so in the title.
   */
  everyDisconnectNoticed: boolean
}

/** A running server under test. */
export interface RunningServer {
  /** `http://127.0.0.1:<port>`. */
  baseURL: string
  close(): Promise<void>
}

/** Options of {@link runSseConformance}. */
export interface ConformanceOptions {
  /** Shown as the `describe` title. */
  name: string
  /** Starts the server (once for this suite); give `baseURL` instead when the file shares one. */
  start?: (() => Promise<RunningServer>) | undefined
  /** The base URL of a server the test file started itself (read when the suite starts). */
  baseURL?: (() => string) | undefined
  /** Prepended to `/sse/<scenario>` and `/control/…`, for servers that host several targets. */
  prefix?: string | undefined
  /** `h2c` opens every stream on one cleartext HTTP/2 session. @defaultValue 'http/1.1' */
  protocol?: 'http/1.1' | 'h2c' | undefined
  /** Compression middleware sits in front of the route (it must not hold events back). */
  compression?: boolean | undefined
  supports: ConformanceSupport
}

/** Headers a server must never send on HTTP/2 (RFC 9113 §8.2.2). */
const connectionSpecificHeaders = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]

let keyCounter = 0

/**
 * Registers the conformance checks for one target.
 *
 * @example
 * ```ts
 * runSseConformance({
 *   name: 'node:http',
 *   start: startNodeHttpServer,
 *   supports: { lastEventIdQuery: true, clientAbort: true, boundedProducer: true },
 * })
 * ```
 */
export function runSseConformance(options: ConformanceOptions): void {
  const prefix = options.prefix ?? ''
  const { supports } = options
  let server: RunningServer | undefined
  let client: SseTestClient

  const uniqueKey = (label: string): string =>
    `${options.name}-${label}-${++keyCounter}-${Math.random().toString(36).slice(2, 8)}`
      .replace(/[^A-Za-z0-9-]/g, '-')
      .toLowerCase()

  const stats = async (key: string): Promise<KeyStats> => {
    const { text } = await client.getText(`${prefix}/control/stats?key=${key}`)
    return JSON.parse(text) as KeyStats
  }
  const release = async (key: string): Promise<void> => {
    const { status } = await client.getText(`${prefix}/control/release?key=${key}`)
    expect(status).toBe(200)
  }
  const open = (scenario: string, query: string, headers?: Record<string, string>) =>
    client.open(`${prefix}/sse/${scenario}?${query}`, headers)

  /** The next frame that carries data, skipping the opening comment, `retry:` and heartbeats. */
  const nextEvent = async (stream: OpenStream, label: string): Promise<Frame | undefined> => {
    for (;;) {
      const frame = await stream.nextFrame(label)
      if (frame === undefined || frame.data !== undefined || frame.event !== undefined) {
        return frame
      }
    }
  }

  describe(options.name, () => {
    beforeAll(async () => {
      let baseURL: string
      if (options.start !== undefined) {
        server = await withTimeout(options.start(), 15_000, `start ${options.name}`)
        baseURL = server.baseURL
      } else if (options.baseURL !== undefined) {
        baseURL = options.baseURL()
      } else {
        throw new TypeError('runSseConformance needs `start` or `baseURL`')
      }
      client = options.protocol === 'h2c' ? createHttp2Client(baseURL) : createHttp1Client(baseURL)
    })
    afterAll(async () => {
      await client?.close()
      await server?.close()
    })

    test('answers 200 with the event-stream headers, and no connection headers on HTTP/2', async () => {
      const key = uniqueKey('headers')
      const stream = await open('headers', `key=${key}`, { 'accept-encoding': 'gzip, deflate' })
      try {
        expect(stream.status).toBe(200)
        expect(String(stream.headers['content-type'])).toMatch(/^text\/event-stream/)
        expect(stream.headers['cache-control']).toBe('no-cache, no-transform')
        expect(stream.headers['x-accel-buffering']).toBe('no')
        expect(stream.headers['content-length']).toBeUndefined()
        // Asked for gzip, but `no-transform` keeps compression middleware away from the stream.
        expect(stream.headers['content-encoding']).toBeUndefined()
        if (options.protocol === 'h2c') {
          for (const name of connectionSpecificHeaders) expect(stream.headers[name]).toBeUndefined()
        }
      } finally {
        stream.cancel()
      }
    })

    test('sends the headers and first bytes before the first event exists', async () => {
      const key = uniqueKey('first-bytes')
      // The response head arriving at all proves the headers did not wait: the source is parked
      // until the release below.
      const stream = await open('headers', `key=${key}&retry=2500`)
      try {
        const first = await stream.nextFrame('opening frame while the source waits')
        expect(first?.retry).toBe('2500')
        expect(first?.data).toBeUndefined()
        expect((await stats(key)).produced).toBe(0)
        await release(key)
        const event = await nextEvent(stream, 'the event after the release')
        expect(event).toMatchObject({ event: 'ready', data: 'released', id: '1' })
        expect(await stream.readToEnd('end of the stream')).toBe('')
      } finally {
        stream.cancel()
      }
    })

    test(`delivers each event as soon as it is produced${options.compression ? ', through compression middleware' : ''}`, async () => {
      const key = uniqueKey('lockstep')
      const stream = await open('lockstep', `key=${key}`, {
        'accept-encoding': 'gzip, deflate',
      })
      try {
        // Event n+1 is only produced after the test saw event n: any layer that holds bytes back
        // (a compressor waiting for more input, say) makes this wait time out.
        for (let index = 1; index <= 3; index++) {
          await release(key)
          const event = await nextEvent(stream, `event ${index} before the next is produced`)
          expect(event).toMatchObject({ id: String(index), data: `event ${index}` })
        }
        expect(await stream.readToEnd('end after the third event')).toBe('')
      } finally {
        stream.cancel()
      }
    })

    test.skipIf(!supports.heartbeat)(
      `sends heartbeat comments while the source is idle${supports.heartbeat ? '' : ' (gap: heartbeat)'}`,
      async () => {
        const key = uniqueKey('heartbeat')
        const stream = await open('idle', `key=${key}&heartbeat=100&retry=3000`)
        try {
          const first = await stream.nextFrame('opening frame')
          expect(first?.retry).toBe('3000')
          const heartbeat = await stream.nextFrame('a heartbeat after the idle period')
          expect(heartbeat?.data).toBeUndefined()
          expect(heartbeat?.comments.length).toBeGreaterThan(0)
        } finally {
          stream.cancel()
        }
      },
    )

    test.skipIf(!supports.heartbeat)(
      `heartbeats keep flowing on one stream after another stream closes${supports.heartbeat ? '' : ' (gap: heartbeat)'}`,
      async () => {
        // Heartbeats share one scheduler: a runtime that ties timers to the request that armed them
        // (workerd) must not silence the streams that outlive that request.
        const first = await open('idle', `key=${uniqueKey('heartbeat-a')}&heartbeat=100&retry=3000`)
        await first.nextFrame('opening frame of the first stream')
        await first.nextFrame('a heartbeat on the first stream')
        const second = await open(
          'idle',
          `key=${uniqueKey('heartbeat-b')}&heartbeat=100&retry=3000`,
        )
        try {
          await second.nextFrame('opening frame of the second stream')
          first.cancel()
          for (let index = 1; index <= 3; index++) {
            const heartbeat = await second.nextFrame(
              `heartbeat ${index} after the first stream left`,
            )
            expect(heartbeat?.comments.length).toBeGreaterThan(0)
          }
        } finally {
          first.cancel()
          second.cancel()
        }
      },
    )

    test('resumes after the Last-Event-ID header', async () => {
      const key = uniqueKey('resume-header')
      const stream = await open('resume', `key=${key}`, { 'last-event-id': '3' })
      const ids: (string | undefined)[] = []
      for (let frame = await nextEvent(stream, 'resumed event'); frame; ) {
        ids.push(frame.id)
        frame = await nextEvent(stream, 'resumed event')
      }
      expect(ids).toEqual(['4', '5'])
      expect((await stats(key)).lastEventIds).toEqual(['3'])
    })

    test.skipIf(!supports.lastEventIdQuery)(
      `resumes after the lastEventId query parameter${supports.lastEventIdQuery ? '' : ' (gap: lastEventIdQuery)'}`,
      async () => {
        const key = uniqueKey('resume-query')
        const stream = await open('resume', `key=${key}&lastEventId=2`)
        const ids: (string | undefined)[] = []
        for (let frame = await nextEvent(stream, 'resumed event'); frame; ) {
          ids.push(frame.id)
          frame = await nextEvent(stream, 'resumed event')
        }
        expect(ids).toEqual(['3', '4', '5'])
      },
    )

    test.skipIf(!supports.clientAbort)(
      `a client abort cancels the source within 1 s${supports.clientAbort ? '' : ' (gap: clientAbort)'}`,
      async () => {
        const key = uniqueKey('abort')
        const stream = await open('ticks', `key=${key}`)
        expect((await nextEvent(stream, 'first tick'))?.data).toBe('tick 1')
        stream.cancel()
        const after = await waitUntil(
          () => stats(key),
          (value) => value.finished === 1 && value.closed === 1,
          1000,
          'the source finished and onClose ran after the client left',
        )
        expect(after.started).toBe(1)
        expect(['cancel', 'abort']).toContain(after.reasons[0])
      },
    )

    test.skipIf(!supports.clientAbort)(
      `200 connect/abort cycles leave nothing open${supports.clientAbort ? '' : ' (gap: clientAbort)'}${supports.everyDisconnectNoticed ? '' : ' (gap: everyDisconnectNoticed, so at least 90 %)'}`,
      async () => {
        const key = uniqueKey('cycles')
        const cycles = 200
        const batch = 20
        for (let done = 0; done < cycles; done += batch) {
          await Promise.all(
            Array.from({ length: batch }, async () => {
              const stream = await open('ticks', `key=${key}`)
              await stream.nextFrame('first bytes of a cycle')
              stream.cancel()
            }),
          )
        }
        let previous = -1
        let steady = 0
        const after = await waitUntil(
          () => stats(key),
          supports.everyDisconnectNoticed
            ? (value) =>
                value.opened === cycles &&
                value.closed === cycles &&
                value.started === value.finished
            : (value) => {
                steady = value.closed === previous ? steady + 1 : 0
                previous = value.closed
                return value.opened === cycles && value.closed >= cycles * 0.9 && steady >= 20
              },
          10_000,
          supports.everyDisconnectNoticed
            ? `every one of ${cycles} streams closed`
            : `at least 90 % of ${cycles} streams closed, and the count settled`,
        )
        expect(after.closed).toBe(after.finished)
        expect(after.reasons.every((reason) => reason === 'cancel' || reason === 'abort')).toBe(
          true,
        )
      },
    )

    test.skipIf(!supports.boundedProducer)(
      `a reader that stops reading pauses the producer${supports.boundedProducer ? '' : ' (gap: boundedProducer)'}`,
      async () => {
        const key = uniqueKey('slow-reader')
        const stream = await open('flood', `key=${key}`)
        try {
          const first = await nextEvent(stream, 'first flood event')
          expect(first?.id).toBe('1')
          // The test reads nothing more: the socket buffers fill and the producer must stop. An
          // unbounded producer never settles (and would pass the byte bound within seconds).
          let previous = -1
          let steady = 0
          const settled = await waitUntil(
            () => stats(key),
            (value) => {
              steady = value.produced === previous ? steady + 1 : 0
              previous = value.produced
              return steady >= 8
            },
            15_000,
            'the producer stopped while nobody reads',
          )
          const producedBytes = settled.produced * floodEventSize
          // Measured: about 4 MiB (the loopback socket buffers) on every HTTP/1.1 target, 64 KiB on h2c.
          expect(producedBytes).toBeLessThan(16 * 1024 * 1024)
          // Reading again resumes the same stream, in order.
          let lastId = Number(first?.id)
          for (let index = 0; index < 50; index++) {
            const frame = await nextEvent(stream, 'flood event after resuming')
            expect(Number(frame?.id)).toBe(lastId + 1)
            lastId++
          }
        } finally {
          stream.cancel()
        }
      },
    )

    test('a source error ends the stream cleanly without leaking its message', async () => {
      const key = uniqueKey('error')
      const plain = await open('error', `key=${key}`)
      const body = await plain.readToEnd('the stream ends after the error')
      expect(body).toContain('before the error')
      expect(body).not.toContain('hunter2')
      expect(body).not.toContain(secretErrorText)

      const withFinal = await open('error', `key=${key}&final=1`)
      const finalBody = await withFinal.readToEnd('the stream ends after the final event')
      expect(finalBody).toContain('event: error\ndata: internal error\n\n')
      expect(finalBody).not.toContain('hunter2')
      const after = await waitUntil(
        () => stats(key),
        (value) => value.closed === 2,
        2000,
        'both streams closed',
      )
      expect(after.reasons).toEqual(['error', 'error'])
    })
  })
}
