import { createHub, type EventStreamSummary, SseError } from '@ssekit/core'
import { createEventPump, type EventPump, type EventSink } from '@ssekit/core/adapter'
import { afterEach, describe, expect, it } from 'vitest'
import { withTimeout } from './_helpers.ts'

const decoder = new TextDecoder()

/** A sink that records every chunk as text; `room` decides what write() answers. */
class TextSink implements EventSink {
  readonly chunks: string[] = []
  room = true
  closed = 0

  write(chunk: Uint8Array): boolean {
    this.chunks.push(decoder.decode(chunk))
    return this.room
  }

  close(): void {
    this.closed++
  }

  error(): void {
    this.closed++
  }

  get text(): string {
    return this.chunks.join('')
  }
}

async function until(check: () => boolean, label: string): Promise<void> {
  await withTimeout(
    (async () => {
      while (!check()) await new Promise((resolve) => setTimeout(resolve, 1))
    })(),
    5_000,
    label,
  )
}

const pumps: EventPump[] = []

afterEach(async () => {
  await Promise.all(pumps.splice(0).map((pump) => pump.cancel()))
})

/** `count` pumps reading subscriptions of `topic`, each subscribed and past its id-only block. */
async function subscribers(hub: ReturnType<typeof createHub>, topic: string, count: number) {
  const sinks: TextSink[] = []
  for (let index = 0; index < count; index++) {
    const sink = new TextSink()
    sinks.push(sink)
    pumps.push(createEventPump(hub.subscribe(topic), sink, { heartbeat: false }))
  }
  await until(
    () => hub.stats().subscribers === count && sinks.every((sink) => sink.chunks.length === 1),
    'every subscriber has its opening and id-only block',
  )
  // One chunk, one write: the id-only block takes the opening comment along.
  for (const sink of sinks) expect(sink.chunks[0]).toMatch(/^:\n\nid: \S+\n\n$/)
  return sinks
}

describe('hub subscriptions read by the pump through the pull fast path', () => {
  it('a publish writes to every subscriber within the publish call, no promise per subscriber', async () => {
    const hub = createHub()
    const sinks = await subscribers(hub, 'news', 50)
    const published = hub.publish('news', { data: 'flash' })
    // Nothing has been awaited yet: every stream got the event synchronously.
    for (const sink of sinks) {
      expect(sink.chunks).toHaveLength(2)
      expect(sink.chunks[1]).toMatch(/^id: \S+\ndata: flash\n\n$/)
    }
    const id = await published
    for (const sink of sinks) expect(sink.chunks[1]).toBe(`id: ${id}\ndata: flash\n\n`)
    await hub.close()
  })

  it('the first event goes out at once; the rest of a burst joins one chunk', async () => {
    const hub = createHub()
    const [sink] = (await subscribers(hub, 'burst', 1)) as [TextSink]
    const ids: Promise<string>[] = []
    for (let index = 0; index < 10; index++) ids.push(hub.publish('burst', { data: `e${index}` }))
    expect(sink.chunks).toHaveLength(2)
    expect(sink.chunks[1]).toContain('data: e0\n\n')
    const resolved = await Promise.all(ids)
    await until(() => sink.chunks.length === 3, 'the coalesced chunk')
    const expected = resolved
      .slice(1)
      .map((id, index) => `id: ${id}\ndata: e${index + 1}\n\n`)
      .join('')
    expect(sink.chunks[2]).toBe(expected)
    await hub.close()
  })

  it('a full sink pauses the pull; resume() writes what queued meanwhile, in order', async () => {
    const hub = createHub()
    const [sink] = (await subscribers(hub, 'slow', 1)) as [TextSink]
    sink.room = false
    await hub.publish('slow', { data: 'first' })
    const before = sink.chunks.length
    const second = await hub.publish('slow', { data: 'second' })
    const third = await hub.publish('slow', { data: 'third' })
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(sink.chunks).toHaveLength(before)
    sink.room = true
    pumps[0]?.resume()
    expect(sink.chunks.slice(before).join('')).toBe(
      `id: ${second}\ndata: second\n\nid: ${third}\ndata: third\n\n`,
    )
    await hub.close()
  })

  it('cancel unsubscribes at once, and a later publish writes nothing', async () => {
    const hub = createHub()
    const [sink] = (await subscribers(hub, 'gone', 1)) as [TextSink]
    const written = sink.chunks.length
    await pumps.splice(0)[0]?.cancel()
    expect(hub.stats().subscribers).toBe(0)
    await hub.publish('gone', { data: 'late' })
    expect(sink.chunks).toHaveLength(written)
    await hub.close()
  })

  it('a refused subscription ends the stream as a source error, reported to onError', async () => {
    const hub = createHub({ authorize: () => false })
    const sink = new TextSink()
    const errors: unknown[] = []
    let summary: EventStreamSummary | undefined
    pumps.push(
      createEventPump(hub.subscribe('private'), sink, {
        heartbeat: false,
        onError: (error) => {
          errors.push(error)
        },
        onClose: (closed) => {
          summary = closed
        },
      }),
    )
    await until(() => summary !== undefined, 'the stream ended')
    expect(summary?.reason).toBe('error')
    expect(SseError.isInstance(errors[0]) && errors[0].code).toBe('unauthorized')
    expect(sink.closed).toBe(1)
    expect(sink.text).toBe(':\n\n')
    await hub.close()
  })
})

describe('the signal of a source function', () => {
  const Original = globalThis.AbortController
  let made = 0
  class CountingAbortController extends Original {
    constructor() {
      super()
      made++
    }
  }

  afterEach(() => {
    globalThis.AbortController = Original
  })

  it('is made only when the source reads it, and aborts with the close reason', async () => {
    globalThis.AbortController = CountingAbortController
    made = 0
    const hub = createHub()
    const quiet = createEventPump(() => hub.subscribe('lazy'), new TextSink(), { heartbeat: false })
    expect(made).toBe(0)
    let context: { signal: AbortSignal } | undefined
    const reading = createEventPump(
      (given) => {
        context = given
        return hub.subscribe('lazy')
      },
      new TextSink(),
      { heartbeat: false },
    )
    expect(made).toBe(0)
    const signal = context?.signal as AbortSignal
    expect(made).toBe(1)
    expect(signal.aborted).toBe(false)
    await reading.cancel()
    expect(signal.aborted).toBe(true)
    expect(SseError.isInstance(signal.reason) && signal.reason.code).toBe('aborted')
    await quiet.cancel()
    await hub.close()
  })

  it('read only after the stream ended, it is already aborted', async () => {
    let context: { signal: AbortSignal } | undefined
    const pump = createEventPump(
      (given) => {
        context = given
        return [{ data: 'only' }]
      },
      new TextSink(),
      { heartbeat: false },
    )
    expect(pump.closed).toBe(true)
    const signal = context?.signal as AbortSignal
    expect(signal.aborted).toBe(true)
    expect(String((signal.reason as Error).message)).toContain('(end)')
  })
})
