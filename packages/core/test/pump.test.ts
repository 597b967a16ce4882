import { getEventListeners } from 'node:events'
import { type EventStreamSummary, SseError } from '@ssekit/core'
import { createEventPump, heartbeatStats } from '@ssekit/core/adapter'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { PushSource, RecordingSink, withTimeout } from './_helpers.ts'

describe('heartbeat', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('sends none before the interval and one after it, then one per quiet interval', async () => {
    const sink = new RecordingSink()
    const pump = createEventPump(new PushSource(), sink, { heartbeat: 1_000 })
    expect(sink.text).toBe(':\n\n')
    await vi.advanceTimersByTimeAsync(999)
    expect(sink.chunks).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(sink.chunks).toHaveLength(2)
    expect(sink.text).toBe(':\n\n:\n\n')
    await vi.advanceTimersByTimeAsync(1_000)
    expect(sink.chunks).toHaveLength(3)
    await pump.cancel()
  })

  it('waits for a full interval of silence after any write', async () => {
    const sink = new RecordingSink()
    const source = new PushSource()
    const pump = createEventPump(source, sink, { heartbeat: 1_000 })
    await vi.advanceTimersByTimeAsync(600)
    source.push('event')
    await vi.advanceTimersByTimeAsync(0)
    expect(sink.text).toBe(':\n\ndata: event\n\n')
    await vi.advanceTimersByTimeAsync(999)
    expect(sink.chunks).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(1)
    expect(sink.text).toBe(':\n\ndata: event\n\n:\n\n')
    await pump.cancel()
  })

  it('sends none while the consumer is full, and resumes after it has room', async () => {
    const sink = new RecordingSink()
    sink.room = false
    const pump = createEventPump(new PushSource(), sink, { heartbeat: 1_000 })
    await vi.advanceTimersByTimeAsync(10_000)
    expect(sink.chunks).toHaveLength(1)
    sink.room = true
    pump.resume()
    await vi.advanceTimersByTimeAsync(0)
    expect(sink.chunks).toHaveLength(2)
    await pump.cancel()
  })

  it('one timer for many streams, gone when the last one closes; false disables it', async () => {
    const before = heartbeatStats()
    expect(before).toEqual({ streams: 0, timerArmed: false })
    const sinks = [new RecordingSink(), new RecordingSink(), new RecordingSink()]
    const pumps = sinks.map((sink, index) =>
      createEventPump(new PushSource(), sink, { heartbeat: 1_000 * (index + 1) }),
    )
    const off = createEventPump(new PushSource(), new RecordingSink(), { heartbeat: false })
    expect(heartbeatStats()).toEqual({ streams: 3, timerArmed: true })
    expect(vi.getTimerCount()).toBe(1)
    await vi.advanceTimersByTimeAsync(3_000)
    expect(sinks.map((sink) => sink.chunks.length)).toEqual([4, 2, 2])
    await pumps[0]?.cancel()
    await pumps[1]?.close()
    expect(heartbeatStats()).toEqual({ streams: 1, timerArmed: true })
    await pumps[2]?.cancel()
    expect(heartbeatStats()).toEqual({ streams: 0, timerArmed: false })
    expect(vi.getTimerCount()).toBe(0)
    await off.cancel()
  })
})

describe('heartbeat scheduler recovery', () => {
  it('replaces a timer that died with the fake clock it was armed on', async () => {
    vi.useFakeTimers({ now: 0 })
    const stranded = createEventPump(new PushSource(), new RecordingSink(), { heartbeat: 1_000 })
    vi.useRealTimers()
    const sink = new RecordingSink()
    const pump = createEventPump(new PushSource(), sink, { heartbeat: 20 })
    try {
      await withTimeout(
        vi.waitFor(() => expect(sink.chunks.length).toBeGreaterThan(1), { timeout: 1_500 }),
        2_000,
        'a heartbeat on the real clock',
      )
      expect(sink.text.startsWith(':\n\n:\n\n')).toBe(true)
    } finally {
      await pump.cancel()
      await stranded.cancel()
    }
    expect(heartbeatStats()).toEqual({ streams: 0, timerArmed: false })
  })
})

describe('cancel', () => {
  it('runs return(), aborts the source signal, stops the heartbeat, reports once', async () => {
    const onClose = vi.fn<(summary: EventStreamSummary) => void>()
    let signal: AbortSignal | undefined
    let finished = false
    async function* events({ signal: given }: { signal: AbortSignal }) {
      signal = given
      try {
        yield { data: 'one' }
        await new Promise((resolve) => given.addEventListener('abort', resolve))
      } finally {
        finished = true
      }
    }
    const sink = new RecordingSink()
    const pump = createEventPump(events, sink, { onClose })
    await withTimeout(
      vi.waitFor(() => expect(sink.text).toContain('data: one')),
      2_000,
      'first event',
    )
    expect(heartbeatStats().streams).toBe(1)
    await withTimeout(pump.cancel(), 2_000, 'cancel settles')
    await pump.cancel()
    expect(finished).toBe(true)
    expect(signal?.aborted).toBe(true)
    expect(SseError.isInstance(signal?.reason)).toBe(true)
    expect(heartbeatStats()).toEqual({ streams: 0, timerArmed: false })
    expect(pump.closed).toBe(true)
    expect(sink.closed).toBe(0)
    expect(onClose).toHaveBeenCalledOnce()
    expect(onClose.mock.calls[0]?.[0]).toMatchObject({ reason: 'cancel', events: 1 })
    expect(onClose.mock.calls[0]?.[0]).not.toHaveProperty('error')
  })

  it('calls return() on a hand-written iterator with a pending next(), and drops its late value', async () => {
    const source = new PushSource()
    const sink = new RecordingSink()
    const pump = createEventPump(source, sink)
    await Promise.resolve()
    expect(source.nextCalls).toBe(1)
    await pump.cancel()
    expect(source.returnCalls).toBe(1)
    source.push('late')
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(sink.text).toBe(':\n\n')
  })

  it('an aborted options.signal ends the stream with reason abort and closes the sink', async () => {
    const controller = new AbortController()
    const onClose = vi.fn<(summary: EventStreamSummary) => void>()
    const source = new PushSource()
    const sink = new RecordingSink()
    createEventPump(source, sink, { signal: controller.signal, onClose })
    source.push('a')
    await new Promise((resolve) => setTimeout(resolve, 0))
    controller.abort()
    expect(sink.closed).toBe(1)
    expect(source.returnCalls).toBe(1)
    expect(onClose.mock.calls).toEqual([[expect.objectContaining({ reason: 'abort', events: 1 })]])
    expect(heartbeatStats().streams).toBe(0)

    const already = new RecordingSink()
    createEventPump(new PushSource(), already, { signal: AbortSignal.abort() })
    expect(already.closed).toBe(1)
  })

  it('1 000 open/cancel cycles on one shared signal leave no listener and no heartbeat', async () => {
    const shared = new AbortController()
    for (let cycle = 0; cycle < 1_000; cycle++) {
      const source = new PushSource()
      const pump = createEventPump(source, new RecordingSink(), { signal: shared.signal })
      if (cycle % 2 === 0) source.push('x')
      await pump.cancel()
      expect(source.returnCalls).toBe(1)
    }
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0)
    expect(heartbeatStats()).toEqual({ streams: 0, timerArmed: false })
  })

  it('close(finalEvent) writes the event, closes the sink and reports shutdown', async () => {
    const onClose = vi.fn<(summary: EventStreamSummary) => void>()
    const source = new PushSource()
    const sink = new RecordingSink()
    const pump = createEventPump(source, sink, { onClose })
    await expect(pump.close({ id: 'bad\n' })).rejects.toMatchObject({ code: 'invalid-field' })
    expect(pump.closed).toBe(false)
    await pump.close({ retry: 5_000 })
    await pump.close({ retry: 1 })
    expect(sink.text).toBe(':\n\nretry: 5000\n\n')
    expect(sink.closed).toBe(1)
    expect(source.returnCalls).toBe(1)
    expect(onClose.mock.calls).toEqual([
      [expect.objectContaining({ reason: 'shutdown', events: 1 })],
    ])
  })
})

describe('source errors', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  function failing(message = 'secret database password') {
    return async function* () {
      yield { data: 'before' }
      throw new Error(message)
    }
  }

  it('ends cleanly without onError, never showing the message, and logs it', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => {})
    const onClose = vi.fn<(summary: EventStreamSummary) => void>()
    const sink = new RecordingSink()
    createEventPump(failing(), sink, { onClose })
    await withTimeout(
      vi.waitFor(() => expect(sink.closed).toBe(1)),
      2_000,
      'close',
    )
    expect(sink.text).toBe(':\n\ndata: before\n\n')
    expect(sink.errors).toEqual([])
    expect(log).toHaveBeenCalledOnce()
    expect(onClose).toHaveBeenCalledOnce()
    const summary = onClose.mock.calls[0]?.[0]
    expect(summary).toMatchObject({ reason: 'error', events: 1, bytes: sink.text.length })
    expect((summary?.error as Error | undefined)?.message).toBe('secret database password')
  })

  it('writes the event onError returns, then closes', async () => {
    const onError = vi.fn(() => ({ event: 'error', data: 'try again later' }))
    const sink = new RecordingSink()
    createEventPump(failing(), sink, { onError })
    await withTimeout(
      vi.waitFor(() => expect(sink.closed).toBe(1)),
      2_000,
      'close',
    )
    expect(sink.text).toBe(':\n\ndata: before\n\nevent: error\ndata: try again later\n\n')
    expect(onError).toHaveBeenCalledWith(
      expect.objectContaining({ message: 'secret database password' }),
    )
  })

  it('an onError that throws errors the sink with a bare SseError and leaks nothing', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {})
    const onClose = vi.fn<(summary: EventStreamSummary) => void>()
    const sink = new RecordingSink()
    createEventPump(failing(), sink, {
      onClose,
      onError: () => {
        throw new Error('handler broke')
      },
    })
    await withTimeout(
      vi.waitFor(() => expect(sink.errors).toHaveLength(1)),
      2_000,
      'error',
    )
    expect(sink.closed).toBe(0)
    expect(sink.errors[0]).toMatchObject({
      code: 'source-error',
      message: 'The event source failed',
    })
    expect(String((sink.errors[0] as Error).cause)).not.toMatch(/secret|handler/)
    expect(sink.text).not.toMatch(/secret|handler/)
    expect(onClose.mock.calls[0]?.[0]).toMatchObject({ reason: 'error' })
  })

  it('an event that cannot be encoded is a source error, and the source’s return() runs', async () => {
    let finished = false
    async function* events() {
      try {
        yield { data: 'fine' }
        yield { id: 'a\nb', data: 'injected' }
        yield { data: 'never' }
      } finally {
        finished = true
      }
    }
    const onError = vi.fn(() => undefined)
    const sink = new RecordingSink()
    createEventPump(events(), sink, { onError })
    await withTimeout(
      vi.waitFor(() => expect(sink.closed).toBe(1)),
      2_000,
      'close',
    )
    expect(sink.text).toBe(':\n\ndata: fine\n\n')
    expect(onError.mock.calls[0]).toEqual([
      expect.objectContaining({ code: 'invalid-field', field: 'id' }),
    ])
    await withTimeout(
      vi.waitFor(() => expect(finished).toBe(true)),
      2_000,
      'return()',
    )
  })

  it('a source function that throws is a source error too', () => {
    const onError = vi.fn(() => ({ data: 'sorry' }))
    const sink = new RecordingSink()
    createEventPump(
      () => {
        throw new Error('boom')
      },
      sink,
      { onError },
    )
    expect(sink.text).toBe(':\n\ndata: sorry\n\n')
    expect(sink.closed).toBe(1)
  })
})

describe('hooks', () => {
  it('onOpen and onClose run once each, with the summary of what was sent', async () => {
    const onOpen = vi.fn()
    const onClose = vi.fn<(summary: EventStreamSummary) => void>()
    const sink = new RecordingSink()
    const pump = createEventPump([{ data: 'a' }, { data: 'b' }, { comment: 'c' }], sink, {
      onOpen,
      onClose,
      lastEventId: '9',
      retry: 100,
    })
    expect(onOpen.mock.calls).toEqual([[{ lastEventId: '9' }]])
    expect(sink.closed).toBe(1)
    await pump.cancel()
    await pump.close()
    expect(onClose).toHaveBeenCalledOnce()
    const summary = onClose.mock.calls[0]?.[0] as EventStreamSummary
    expect(summary.reason).toBe('end')
    expect(summary.events).toBe(3)
    expect(summary.bytes).toBe(new TextEncoder().encode(sink.text).byteLength)
    expect(summary.durationMs).toBeGreaterThanOrEqual(0)
    expect(summary).not.toHaveProperty('error')
  })

  it('a hook that throws does not break the stream', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {})
    const sink = new RecordingSink()
    createEventPump([{ data: 'a' }], sink, {
      onOpen: () => {
        throw new Error('logger down')
      },
      onClose: () => {
        throw new Error('logger down')
      },
    })
    expect(sink.text).toBe(':\n\ndata: a\n\n')
    expect(sink.closed).toBe(1)
    vi.restoreAllMocks()
  })

  it('a sink whose write throws counts as a consumer that left', async () => {
    const onClose = vi.fn<(summary: EventStreamSummary) => void>()
    const source = new PushSource()
    let writes = 0
    createEventPump(
      source,
      {
        write: () => {
          writes++
          if (writes > 1) throw new Error('stream torn down')
          return true
        },
        close: () => {},
        error: () => {},
      },
      { onClose },
    )
    source.push('a')
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(onClose.mock.calls[0]?.[0]).toMatchObject({ reason: 'cancel' })
    expect(source.returnCalls).toBe(1)
  })
})
