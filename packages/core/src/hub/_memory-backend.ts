import { createEncodedEvent, encodedFrameOf } from '../encode.ts'
import { SseError } from '../errors.ts'
import type { SseEvent } from '../types.ts'
import { isResumableId } from './_last-event-id.ts'
import { type SyncHead, syncKey } from './_subscription.ts'
import type { HubBackend, HubHistoryOptions, HubListener, HubReadResult } from './types.ts'

interface StoredEvent {
  event: SseEvent
  bytes: number
  at: number
}

class TopicHistory {
  head = 0
  /** The id of event `head`, made once and shared by every subscriber's cursor. */
  headId: string | undefined = undefined
  events: StoredEvent[] = []
  first = 0
  bytes = 0
  deliver: ((event: SseEvent) => void) | undefined = undefined
  /** The topic after this one in the sweep's ring; itself when it is alone. */
  next: TopicHistory = this
  /** The topic before this one in the sweep's ring. */
  previous: TopicHistory = this
}

const idPattern = /^([0-9a-z]{1,16})-(\d{1,15})$/

/** The in-process backend behind `createHub()`: a bounded ring of encoded events per topic. */
export function createMemoryBackend(history: HubHistoryOptions = {}): HubBackend {
  const maxEvents = history.maxEvents ?? 1000
  const maxBytes = history.maxBytes ?? 1024 * 1024
  const maxAge = history.maxAge ?? 5 * 60_000
  for (const [name, value] of [
    ['maxEvents', maxEvents],
    ['maxBytes', maxBytes],
    ['maxAge', maxAge],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new SseError(
        'invalid-option',
        `history.${name} must be a positive integer, got ${String(value)}`,
      )
    }
  }
  const topics = new Map<string, TopicHistory>()
  // A random epoch per backend makes ids from another process, or an earlier run of this one,
  // unknown (so they get a reset) instead of being mistaken for ids of this history.
  const epoch = Math.floor(Math.random() * 36 ** 8).toString(36)

  function topicOf(topic: string): TopicHistory {
    let state = topics.get(topic)
    if (state === undefined) {
      state = new TopicHistory()
      topics.set(topic, state)
      link(state)
    }
    return state
  }

  function evict(state: TopicHistory, now: number): void {
    const { events } = state
    while (
      state.first < events.length &&
      (events.length - state.first > maxEvents ||
        state.bytes > maxBytes ||
        now - (events[state.first] as StoredEvent).at > maxAge)
    ) {
      state.bytes -= (events[state.first] as StoredEvent).bytes
      events[state.first] = undefined as unknown as StoredEvent
      state.first++
    }
    // Compact once the evicted prefix dominates, so shifting stays amortised O(1).
    if (state.first > 64 && state.first * 2 > events.length) {
      state.events = events.slice(state.first)
      state.first = 0
    }
  }

  const idOf = (sequence: number) => `${epoch}-${sequence}`
  const headOf = (state: TopicHistory) => {
    state.headId ??= idOf(state.head)
    return state.headId
  }

  // Age eviction also runs on topics nobody reads any more: each publish checks two other
  // topics, round robin, so their history is freed without a timer (none of which every runtime
  // lets a library own). The round robin walks a ring linked through the topics rather than an
  // iterator of `topics` kept between publishes: while a Map iterator is alive and not advanced,
  // V8 keeps every entry deleted from the Map since, and quiet topics come and go between
  // publishes without bound.
  /** The topic the sweep checks next; undefined when there is none. */
  let sweep: TopicHistory | undefined

  /** Adds a topic to the ring, just before the sweep's position: it is checked last this round. */
  function link(state: TopicHistory): void {
    if (sweep === undefined) {
      sweep = state
      return
    }
    const last = sweep.previous
    state.previous = last
    state.next = sweep
    last.next = state
    sweep.previous = state
  }

  function unlink(state: TopicHistory): void {
    if (state.next === state) {
      if (sweep === state) sweep = undefined
      return
    }
    state.previous.next = state.next
    state.next.previous = state.previous
    if (sweep === state) sweep = state.next
    state.next = state
    state.previous = state
  }

  function sweepSome(now: number): void {
    for (let step = 0; step < 2; step++) {
      const state = sweep
      if (state === undefined) return
      sweep = state.next
      evict(state, now)
      if (state.first === state.events.length && state.events.length > 0) {
        state.events = []
        state.first = 0
      }
    }
  }

  const backend: HubBackend & { [syncKey]: SyncHead } = {
    async append(topic, event) {
      const state = topicOf(topic)
      const sequence = state.head + 1
      const stored = createEncodedEvent({ ...event, id: idOf(sequence) })
      state.head = sequence
      state.headId = stored.id
      const now = Date.now()
      const bytes = encodedFrameOf(stored)?.byteLength ?? 0
      state.events.push({ event: stored, bytes, at: now })
      state.bytes += bytes
      evict(state, now)
      sweepSome(now)
      state.deliver?.(stored)
      return stored
    },

    async head(topic) {
      return headOf(topicOf(topic))
    },

    [syncKey]: {
      head: (topic: string) => headOf(topicOf(topic)),
    },

    async read(topic, afterId, limit): Promise<HubReadResult> {
      const state = topicOf(topic)
      evict(state, Date.now())
      const head = headOf(state)
      const match = isResumableId(afterId) ? idPattern.exec(afterId) : null
      if (match === null || match[1] !== epoch) return { status: 'reset', reason: 'unknown', head }
      const sequence = Number(match[2])
      if (sequence > state.head) return { status: 'reset', reason: 'unknown', head }
      const retained = state.events.length - state.first
      const oldest = state.head - retained + 1
      if (sequence < oldest - 1) return { status: 'reset', reason: 'evicted', head }
      const start = state.first + (sequence - oldest + 1)
      const end = Math.min(state.events.length, start + limit)
      const events: SseEvent[] = []
      for (let index = start; index < end; index++) {
        events.push((state.events[index] as StoredEvent).event)
      }
      return { status: 'ok', events, head }
    },

    listen(topic, deliver): HubListener {
      const state = topicOf(topic)
      state.deliver = deliver
      return {
        ready: Promise.resolve(),
        stop() {
          if (state.deliver === deliver) state.deliver = undefined
          // Only a topic that never had an event is forgotten: its sequence restarts at 0 with
          // nothing to miss. One that had events keeps its counter (a few bytes), so an old id can
          // never be mistaken for a new event's.
          if (state.deliver === undefined && state.head === 0 && topics.get(topic) === state) {
            topics.delete(topic)
            unlink(state)
          }
        },
      }
    },

    compare(a, b) {
      const left = idPattern.exec(a)
      const right = idPattern.exec(b)
      return Number(left?.[2] ?? -1) - Number(right?.[2] ?? -1)
    },

    async close() {
      topics.clear()
      sweep = undefined
    },
  }
  return backend
}
