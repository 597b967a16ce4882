import {
  createEncodedEvent,
  createEventStream,
  createHub,
  type EventStreamSummary,
  type SseEvent,
} from '@ssekit/core'
import { createEventPump, heartbeatStats } from '@ssekit/core/adapter'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  decode,
  PushSource,
  parseText,
  readChunks,
  readText,
  settle,
  startedGenerator,
  withTimeout,
} from './_helpers.ts'

afterEach(() => {
  vi.restoreAllMocks()
})

/** A source function that waits for its signal, recording what happened to it. */
function idleSource() {
  const state = { aborted: false, finished: false, lastEventId: undefined as string | undefined }
  const source = async function* ({
    signal,
    lastEventId,
  }: {
    signal: AbortSignal
    lastEventId: string | undefined
  }): AsyncGenerator<SseEvent> {
    state.lastEventId = lastEventId
    try {
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()))
      state.aborted = signal.aborted
    } finally {
      state.finished = true
    }
  }
  return { state, source }
}

describe('createEventStream: first bytes', () => {
  it('writes a comment at once, before the source has an event', async () => {
    const { source } = idleSource()
    const reader = createEventStream(source).getReader()
    const first = await withTimeout(reader.read(), 2_000, 'first chunk')
    expect(decode(first.value as Uint8Array)).toBe(':\n\n')
    expect(heartbeatStats().streams).toBe(1)
    await withTimeout(reader.cancel(), 2_000, 'cancel')
    expect(heartbeatStats()).toEqual({ streams: 0, timerArmed: false })
  })

  it('writes retry first when it is set', async () => {
    const { source } = idleSource()
    const reader = createEventStream(source, { retry: 2500 }).getReader()
    const first = await withTimeout(reader.read(), 2_000, 'first chunk')
    expect(decode(first.value as Uint8Array)).toBe('retry: 2500\n\n')
    await reader.cancel()
  })
})

describe('createEventStream: sources', () => {
  it('takes an array, a sync generator, an async generator and a function', async () => {
    const events = [{ data: 'a' }, { data: 'b', id: '2' }]
    function* sync() {
      yield* events
    }
    async function* asyncSource() {
      yield* events
    }
    for (const source of [events, sync(), asyncSource(), () => asyncSource(), () => events]) {
      const parsed = parseText(await readText(createEventStream(source, { heartbeat: false })))
      expect(parsed.events).toEqual([
        { id: undefined, event: undefined, data: 'a' },
        { id: '2', event: undefined, data: 'b' },
      ])
    }
  })

  it('passes lastEventId to a source function', async () => {
    const { state, source } = idleSource()
    const stream = createEventStream(source, { lastEventId: '41' })
    expect(state.lastEventId).toBe('41')
    await stream.cancel()
  })

  it('refuses what is not a source with a TypeError, and bad options with invalid-option', () => {
    expect(() => createEventStream(42 as never)).toThrow(TypeError)
    expect(() => createEventStream('abc' as never)).toThrow(/async iterable/)
    for (const heartbeat of [0, -1, Number.NaN, 2 ** 31, '5' as unknown as number]) {
      expect(() => createEventStream([], { heartbeat })).toThrow(
        expect.objectContaining({ code: 'invalid-option' }),
      )
    }
    expect(() => createEventStream([], { retry: 1.5 })).toThrow(
      expect.objectContaining({ code: 'invalid-option' }),
    )
    expect(() => createEventStream([], { highWaterMark: -1 })).toThrow(
      expect.objectContaining({ code: 'invalid-option' }),
    )
  })

  it('ends with a TypeError in onClose when a source function returns a Promise', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {})
    const onClose = vi.fn<(summary: EventStreamSummary) => void>()
    const text = await readText(
      createEventStream((async () => [{ data: 'x' }]) as never, { onClose }),
    )
    expect(text).toBe(':\n\n')
    expect(onClose).toHaveBeenCalledOnce()
    expect(onClose.mock.calls[0]?.[0].reason).toBe('error')
    expect(onClose.mock.calls[0]?.[0].error).toBeInstanceOf(TypeError)
    expect(String(onClose.mock.calls[0]?.[0].error)).toMatch(/async generator/)
    expect(error).toHaveBeenCalled()
  })

  it('leaves no unhandled rejection when that Promise rejects, and releases what it resolves to', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {})
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    const hub = createHub()
    try {
      const refused = new Error('not authorised')
      const onClose = vi.fn<(summary: EventStreamSummary) => void>()
      const text = await readText(
        createEventStream(
          (async () => {
            await settle(1)
            throw refused
          }) as never,
          { onClose, onError: () => ({ event: 'failed', data: 'x' }) },
        ),
      )
      expect(text).toBe(':\n\nevent: failed\ndata: x\n\n')
      expect(String(onClose.mock.calls[0]?.[0].error)).toMatch(
        /source function returned a Promise \(use an async generator function/,
      )
      const subscribed = readText(
        createEventStream((async () => hub.subscribe('news')) as never, { onClose }),
      )
      expect(await withTimeout(subscribed, 2_000, 'the second stream ends')).toBe(':\n\n')
      // The rejection comes a macrotask turn after the stream ended; give it time to go unhandled.
      await settle(5)
      expect(unhandled).not.toContain(refused)
      expect(hub.stats().subscribers).toBe(0)
    } finally {
      process.off('unhandledRejection', onUnhandled)
      await withTimeout(hub.close(), 2_000, 'hub.close()')
    }
  })
})

describe('createEventStream: a signal that has fired already', () => {
  it('releases the source it never reads: a hub subscription detaches, a started generator finishes', async () => {
    const hub = createHub()
    try {
      const controller = new AbortController()
      controller.abort()
      const { source: started, finished } = await startedGenerator()
      const subscription = hub.subscribe('news')
      for (const source of [subscription, started]) {
        await withTimeout(
          readText(createEventStream(source, { signal: controller.signal })),
          2_000,
          'the aborted stream ends',
        )
      }
      await withTimeout(
        (async () => {
          while (!finished() || hub.stats().subscribers > 0) await settle(1)
        })(),
        2_000,
        'both sources are released',
      )
    } finally {
      await withTimeout(hub.close(), 2_000, 'hub.close()')
    }
  })
})

describe('createEventStream: backpressure', () => {
  it('a reader that stops reading bounds how far an async source runs ahead', async () => {
    let nextCalls = 0
    const payload = 'x'.repeat(100)
    async function* source() {
      // Capped so that a stream ignoring backpressure ends the test instead of hanging it.
      for (let index = 0; index < 100_000; index++) {
        nextCalls++
        yield { data: payload }
      }
    }
    const frameBytes = `data: ${payload}\n\n`.length
    const highWaterMark = 4_096
    const reader = createEventStream(source(), { highWaterMark, heartbeat: false }).getReader()
    await settle(5)
    const ranAhead = nextCalls
    // The queue holds at most highWaterMark bytes plus one chunk of at most highWaterMark bytes.
    expect(ranAhead).toBeGreaterThan(0)
    expect(ranAhead).toBeLessThanOrEqual(Math.ceil((2 * highWaterMark) / frameBytes) + 2)
    await settle(5)
    expect(nextCalls).toBe(ranAhead)
    // Reading lets it go on.
    for (let read = 0; read < 5; read++) await withTimeout(reader.read(), 2_000, 'read')
    await settle(5)
    expect(nextCalls).toBeGreaterThan(ranAhead)
    await reader.cancel()
  })

  it('the same bound holds for a sync source', async () => {
    let nextCalls = 0
    function* source() {
      for (let index = 0; index < 100_000; index++) {
        nextCalls++
        yield { data: String(index).padStart(20, '0') }
      }
    }
    const stream = createEventStream(source(), { highWaterMark: 2_048, heartbeat: false })
    await settle(3)
    expect(nextCalls).toBeGreaterThan(0)
    expect(nextCalls).toBeLessThanOrEqual(Math.ceil(4_096 / 28) + 2)
    await stream.cancel()
  })

  it('never loses, repeats or overlaps next() while pausing and resuming', async () => {
    const source = new PushSource()
    const stream = createEventStream(source, { highWaterMark: 0, heartbeat: false })
    const reading = readText(stream)
    for (let index = 0; index < 300; index++) {
      source.push(String(index), String(index))
      if (index % 7 === 0) await settle(1)
      else if (index % 3 === 0) await Promise.resolve()
    }
    source.end()
    const parsed = parseText(await reading)
    expect(parsed.events.map((event) => event.data)).toEqual(
      Array.from({ length: 300 }, (_, index) => String(index)),
    )
    expect(source.overlapping).toBe(0)
    expect(source.nextCalls).toBe(301)
  })
})

describe('createEventStream: coalescing', () => {
  it('writes 1 000 ready events from a sync source in a few chunks', async () => {
    const events = Array.from({ length: 1_000 }, (_, index) => ({
      id: String(index),
      data: 'tick',
    }))
    const chunks = await withTimeout(
      readChunks(createEventStream(events, { heartbeat: false })),
      5_000,
      'read all',
    )
    const text = chunks.map(decode).join('')
    expect(parseText(text).events).toHaveLength(1_000)
    expect(chunks.length).toBeLessThanOrEqual(5)
  })

  it('writes 1 000 ready events from an async generator in a few chunks', async () => {
    async function* source() {
      for (let index = 0; index < 1_000; index++) yield { id: String(index), data: 'tick' }
    }
    const chunks = await withTimeout(
      readChunks(createEventStream(source(), { heartbeat: false })),
      5_000,
      'read all',
    )
    expect(parseText(chunks.map(decode).join('')).events).toHaveLength(1_000)
    expect(chunks.length).toBeLessThanOrEqual(5)
  })

  it('does not hold a slow source’s first event back waiting for a second one', async () => {
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    async function* source() {
      yield { data: 'first' }
      await gate
      yield { data: 'second' }
    }
    const reader = createEventStream(source(), { heartbeat: false }).getReader()
    await withTimeout(reader.read(), 2_000, 'opening comment')
    const first = await withTimeout(reader.read(), 2_000, 'the first event, while the source waits')
    expect(decode(first.value as Uint8Array)).toBe('data: first\n\n')
    release()
    const second = await withTimeout(reader.read(), 2_000, 'the second event')
    expect(decode(second.value as Uint8Array)).toBe('data: second\n\n')
    expect((await withTimeout(reader.read(), 2_000, 'end')).done).toBe(true)
  })

  it('writes a pre-encoded event’s own bytes, alone or among others', async () => {
    const shared = createEncodedEvent({ event: 'shared', data: 'once' })
    const bytes = (shared as unknown as Record<symbol, Uint8Array>)[Symbol.for('ssekit.frame')]
    // Alone: a ReadableStream consumer might modify or transfer it, so it gets a copy.
    const lone = async function* () {
      yield shared
    }
    const loneReader = createEventStream(lone(), { heartbeat: false }).getReader()
    await loneReader.read()
    const loneChunk = await withTimeout(loneReader.read(), 2_000, 'the lone pre-encoded frame')
    expect(loneChunk.value).not.toBe(bytes)
    expect(loneChunk.value).toEqual(bytes)
    loneChunk.value?.fill(0)
    expect(decode(bytes as Uint8Array)).toBe('event: shared\ndata: once\n\n')
    await loneReader.cancel()
    // A sink that promises not to touch chunks gets the shared bytes themselves.
    const written: Uint8Array[] = []
    const sink = { write: (chunk: Uint8Array) => written.push(chunk) > 0, close() {}, error() {} }
    createEventPump([shared], { ...sink, sharesChunks: true }, { heartbeat: false })
    expect(written[1]).toBe(bytes)
    // Mixed: copied in order between formatted frames.
    const text = await readText(
      createEventStream([{ data: 'a' }, shared, { data: 'b' }, shared], { heartbeat: false }),
    )
    expect(text).toBe(
      ':\n\ndata: a\n\nevent: shared\ndata: once\n\ndata: b\n\nevent: shared\ndata: once\n\n',
    )
  })
})
