import { type PullReader, type PullSource, pullKey } from '../_pull-source.ts'
import { createEncodedEvent, encodedFrameOf } from '../encode.ts'
import { SseError } from '../errors.ts'
import type { SseEvent } from '../types.ts'
import { isResumableId } from './_last-event-id.ts'
import type {
  HubAuthorize,
  HubBackend,
  HubHooks,
  HubQueuePolicy,
  HubResetData,
  HubStats,
  HubSubscription,
} from './types.ts'

/** What a subscription needs from its hub. */
export interface SubscriptionHost {
  readonly backend: HubBackend
  readonly hooks: HubHooks
  readonly counters: HubStats
  readonly authorize: HubAuthorize | undefined
  /** Whether `hub.close()` was called: a closed hub takes no subscriber. */
  readonly closed: boolean
  /** Adds the subscription to its topic's fan-out; resolves when live delivery is guaranteed. */
  attach(topic: string, subscription: Subscription): Promise<void>
  detach(topic: string, subscription: Subscription, reason: UnsubscribeReason): void
  /** Local subscribers of `topic` now. */
  subscribersOf(topic: string): number
}

export type UnsubscribeReason = 'return' | 'abort' | 'overflow' | 'close' | 'error'

/** Resolved queue options, every field set. */
export interface QueueBound {
  maxEvents: number
  maxBytes: number
  policy: HubQueuePolicy
  waitTimeout: number
}

type Mode = 'catching-up' | 'live' | 'ended'

/**
 * A backend that answers at once (the memory backend) offers its head under {@link syncKey}: its
 * listeners are live as soon as `listen()` returns, so a subscription without a resume point can
 * start synchronously.
 * @internal
 */
export interface SyncHead {
  head(topic: string): string
}

/** @internal The key of a backend's {@link SyncHead}. */
export const syncKey: unique symbol = Symbol('ssekit.hub.sync') as typeof syncKey

// Bits of Subscription.#flags.
/** Live events are still compared with the cursor (the first one after going live may be old). */
const Dedupe = 1
/** A history read is in flight. */
const Reading = 2
/** The first read (id-only block, replay or reset) is still to be done. */
const FirstRead = 4
/** More live events arrived during a read than the queue bound holds; history has them. */
const PendingOverflow = 8
/** Added to its topic's fan-out (so it must be detached at the end). */
const Attached = 16
/** Live delivery is guaranteed; reading history before that could miss a publish. */
const Listening = 32
/** The consumer took an event since the `wait` policy's timer was last armed. */
const Consumed = 64
type Progress = 'caught-up' | 'more' | 'full'

interface Waiter {
  resolve(result: IteratorResult<SseEvent, undefined>): void
  reject(error: unknown): void
}

const done: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined })
const noop = () => {}
const noEvents: readonly SseEvent[] = Object.freeze([])
// What `ready` is once the subscription is live: one settled promise for every subscription.
const live: Promise<void> = Promise.resolve()
/**
 * The id-only block of the latest head, shared by the subscriptions that start there together (a
 * reconnect wave): it is frozen, and a pump never modifies a pre-encoded frame.
 */
let idOnlyBlock: SseEvent | undefined

function idOnlyBlockFor(head: string): SseEvent {
  if (idOnlyBlock?.id !== head) idOnlyBlock = createEncodedEvent({ id: head })
  return idOnlyBlock
}

function sizeOf(event: SseEvent): number {
  return encodedFrameOf(event)?.byteLength ?? 0
}

/**
 * One subscriber. A small class rather than an async generator chain: with thousands of
 * subscribers per topic, `deliver` must be a few property writes, and a live event handed to a
 * waiting `next()` never touches the queue.
 *
 * Modes: `catching-up` reads history after `cursor` (at start, and after the `wait` policy let
 * it fall behind) while collecting live events in `pending`; once a read comes back short, the
 * pending events newer than the cursor are appended and the mode turns `live`. Subscribing
 * before reading is what makes a racing publish impossible to miss, and comparing ids against the
 * cursor is what keeps it from arriving twice.
 */
export class Subscription implements HubSubscription, PullSource {
  // Until the subscription is live (or failed); then the shared `live` promise is returned.
  #ready: Promise<void> | undefined
  readonly #host: SubscriptionHost
  readonly #topic: string
  readonly #bound: QueueBound
  readonly #signal: AbortSignal | undefined
  #mode: Mode = 'catching-up'
  // The booleans below, as bits of one field: with thousands of subscribers, each field is 8 bytes
  // per connection.
  #flags = Dedupe | FirstRead
  // The oldest queued event in a field of its own, and the rest in an array made only when a
  // second one waits: a live subscriber read by a pump holds one event at a time, if any.
  #head: SseEvent | undefined
  #queue: SseEvent[] | undefined
  #front = 0
  #bytes = 0
  /** Id of the last event queued (or the resume point): live events at or before it are duplicates. */
  #cursor: string | undefined
  #lastEventId: string | undefined
  // Live events collected while history is read; made by the first one.
  #pending: SseEvent[] | undefined
  #pendingBytes = 0
  #gap = 0
  #waiter: Waiter | undefined
  /** A pump reading through the pull fast path, waiting for something to be ready. */
  #reader: PullReader | undefined
  #failure: unknown
  #endError: unknown
  #waitTimer: ReturnType<typeof setTimeout> | undefined
  // Made only when there is a signal: an idle subscription should cost no closure it never uses.
  #onAbort: (() => void) | undefined

  constructor(
    host: SubscriptionHost,
    topic: string,
    bound: QueueBound,
    options: {
      lastEventId?: string | undefined
      signal?: AbortSignal | undefined
      request?: unknown
    },
  ) {
    this.#host = host
    this.#topic = topic
    this.#bound = bound
    this.#signal = options.signal
    this.#lastEventId = options.lastEventId === '' ? undefined : options.lastEventId
    if (host.closed) {
      // Neither attached nor authorised: the iterator reports done at once, and `ready` says why.
      this.#mode = 'ended'
      const ready = Promise.reject(
        new SseError('closed', `hub.subscribe("${topic}") was called after hub.close()`),
      )
      ready.catch(noop)
      this.#ready = ready
      return
    }
    if (!this.#startNow()) {
      const ready = this.#start(options.request)
      this.#ready = ready
      ready.then(() => {
        if (this.#ready === ready) this.#ready = undefined
      }, noop)
    }
    const signal = this.#signal
    if (signal?.aborted) this.#end('abort')
    else if (signal !== undefined) {
      this.#onAbort = () => this.#end('abort')
      signal.addEventListener('abort', this.#onAbort, { once: true })
    }
  }

  /** Settles once live delivery is guaranteed; rejects if subscribing failed. */
  get ready(): Promise<void> {
    return this.#ready ?? live
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  next(): Promise<IteratorResult<SseEvent, undefined>> {
    if (this.#failure !== undefined) {
      const failure = this.#failure
      this.#failure = undefined
      return Promise.reject(failure)
    }
    const ready = this.#shiftReady()
    if (ready !== undefined) return Promise.resolve({ done: false, value: ready })
    if (this.#mode === 'ended') return Promise.resolve(done)
    if (this.#waiter !== undefined || this.#reader !== undefined) {
      return Promise.reject(
        new TypeError('next() was called again before the previous call settled; await each call'),
      )
    }
    if (this.#mode === 'catching-up') void this.#refill()
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject }
    })
  }

  /** The pull fast path ({@link PullSource}): the same order as `next()`, without a promise. */
  [pullKey](reader: PullReader): SseEvent | null | undefined {
    if (this.#failure !== undefined) {
      const failure = this.#failure
      this.#failure = undefined
      throw failure
    }
    const ready = this.#shiftReady()
    if (ready !== undefined) return ready
    if (this.#mode === 'ended') return null
    if (this.#waiter !== undefined) {
      throw new TypeError('A subscription cannot be read by next() and a pump at once')
    }
    this.#reader = reader
    if (this.#mode === 'catching-up') void this.#refill()
    return undefined
  }

  return(): Promise<IteratorResult<SseEvent, undefined>> {
    this.#end('return')
    return Promise.resolve(done)
  }

  /** The gap notice or the oldest queued event, if any; the first steps of `next()`. */
  #shiftReady(): SseEvent | undefined {
    if (this.#gap > 0) {
      const data: { dropped: number } = { dropped: this.#gap }
      this.#gap = 0
      return createEncodedEvent({ event: 'gap', data: JSON.stringify(data) })
    }
    if (this.#head !== undefined) {
      const event = this.#takeOldest()
      const size = sizeOf(event)
      this.#bytes -= size
      this.#host.counters.queuedBytes -= size
      this.#flags |= Consumed
      if (this.#mode === 'catching-up' && this.#belowLowWater()) void this.#refill()
      return event
    }
    return undefined
  }

  /** How many events are queued. */
  #queued(): number {
    if (this.#head === undefined) return 0
    return this.#queue === undefined ? 1 : 1 + this.#queue.length - this.#front
  }

  /** Removes and returns the oldest queued event; call only when one is queued. */
  #takeOldest(): SseEvent {
    const event = this.#head as SseEvent
    const queue = this.#queue
    if (queue !== undefined && this.#front < queue.length) {
      this.#head = queue[this.#front]
      queue[this.#front] = undefined as unknown as SseEvent
      this.#front++
      if (this.#front === queue.length) {
        queue.length = 0
        this.#front = 0
      } else if (this.#front > 1024 && this.#front * 2 > queue.length) {
        this.#queue = queue.slice(this.#front)
        this.#front = 0
      }
    } else {
      this.#head = undefined
    }
    return event
  }

  /** Wakes a pump waiting on the pull fast path; it pulls synchronously, inside this call. */
  #wake(): void {
    const reader = this.#reader
    if (reader === undefined) return
    this.#reader = undefined
    reader.wake()
  }

  /** Called by the hub for every live event of the topic, in id order. */
  deliver(event: SseEvent): void {
    if (this.#mode === 'live') {
      if ((this.#flags & Dedupe) !== 0) {
        if (this.#compare(event.id, this.#cursor) <= 0) return
        // Ids only ever grow from here, so later events skip the comparison.
        this.#flags &= ~Dedupe
      }
      this.#offer(event)
    } else if (
      this.#mode === 'catching-up' &&
      (this.#flags & Reading) !== 0 &&
      (this.#flags & PendingOverflow) === 0
    ) {
      const size = sizeOf(event)
      if (
        (this.#pending?.length ?? 0) >= this.#bound.maxEvents ||
        this.#pendingBytes + size > this.#bound.maxBytes
      ) {
        // The read in flight will be followed by another one; history has these events.
        this.#flags |= PendingOverflow
        this.#pending = undefined
        this.#pendingBytes = 0
      } else {
        this.#pending ??= []
        this.#pending.push(event)
        this.#pendingBytes += size
      }
    }
  }

  /** Ends the subscription from the hub's side (`close()`). */
  close(): void {
    this.#end('close')
  }

  /**
   * Starts a subscription without a resume point on a backend that answers at once (the memory
   * backend), with no `authorize`: attached, its id-only block queued and live within the
   * constructor, so it costs no promise, and a publish right after `subscribe()` reaches it.
   * Whether it did; otherwise {@link Subscription.#start} runs.
   */
  #startNow(): boolean {
    const host = this.#host
    const sync = (host.backend as { [syncKey]?: SyncHead })[syncKey]
    if (sync === undefined || host.authorize !== undefined || this.#lastEventId !== undefined) {
      return false
    }
    this.#flags |= Attached
    void host.attach(this.#topic, this)
    this.#flags |= Listening
    this.#flags &= ~FirstRead
    this.#startAt(sync.head(this.#topic))
    this.#goLive()
    if (host.hooks.onSubscribe !== undefined) {
      // After subscribe() returned, as on the asynchronous path.
      void live.then(() => {
        if (!this.#ended()) this.#announce()
      })
    }
    return true
  }

  /**
   * No resume point: an id-only block, so the client has a Last-Event-ID even if it drops before
   * any event.
   */
  #startAt(head: string): void {
    this.#push(idOnlyBlockFor(head))
    this.#cursor = head
  }

  /** Tells the `onSubscribe` hook. */
  #announce(): void {
    const host = this.#host
    host.hooks.onSubscribe?.({ topic: this.#topic, subscribers: host.subscribersOf(this.#topic) })
  }

  async #start(request: unknown): Promise<void> {
    const host = this.#host
    try {
      if (host.authorize !== undefined) {
        const allowed = await host.authorize({ topic: this.#topic, request })
        if (allowed !== true) {
          throw new SseError(
            'unauthorized',
            `Subscribing to topic "${this.#topic}" was refused by authorize()`,
          )
        }
      }
      if (this.#ended()) return
      if (host.closed) {
        // `close()` ran while `authorize` was pending, so it could not reach this subscription.
        this.#end('close')
        throw new SseError(
          'closed',
          `hub.close() was called while authorize() of topic "${this.#topic}" was pending`,
        )
      }
      this.#flags |= Attached
      await host.attach(this.#topic, this)
      if (this.#ended()) return
      this.#flags |= Listening
      await this.#refill()
      if (this.#ended()) {
        if (this.#endError !== undefined) throw this.#endError
        return
      }
      this.#announce()
    } catch (error) {
      this.#end('error', error)
      throw error
    }
  }

  async #refill(): Promise<void> {
    if (
      (this.#flags & Reading) !== 0 ||
      (this.#flags & Listening) === 0 ||
      this.#mode !== 'catching-up'
    )
      return
    this.#flags |= Reading
    const { backend } = this.#host
    try {
      while (this.#mode === 'catching-up') {
        const room = this.#bound.maxEvents - this.#queued()
        if (room <= 0 || this.#bytes >= this.#bound.maxBytes) break
        this.#pending = undefined
        this.#pendingBytes = 0
        this.#flags &= ~PendingOverflow
        let progress: Progress
        if ((this.#flags & FirstRead) !== 0) {
          progress = await this.#readFirst(room)
        } else {
          const result = await backend.read(this.#topic, this.#cursor as string, room)
          if (this.#mode !== 'catching-up') return
          progress =
            result.status === 'reset' ? this.#reset(result) : this.#take(result.events, room)
        }
        if (progress === 'full') break
        if (
          progress === 'caught-up' &&
          (this.#flags & PendingOverflow) === 0 &&
          this.#take(this.#pending ?? noEvents, Number.POSITIVE_INFINITY) === 'caught-up'
        ) {
          this.#pending = undefined
          this.#pendingBytes = 0
          this.#goLive()
        }
      }
    } catch (error) {
      this.#end(
        'error',
        SseError.isInstance(error)
          ? error
          : new SseError('backend-unavailable', `Reading topic "${this.#topic}" failed`, {
              cause: error,
            }),
      )
    } finally {
      this.#flags &= ~Reading
    }
  }

  /** The first read: the id-only block, a replay, or a reset. */
  async #readFirst(room: number): Promise<Progress> {
    const { backend, counters, hooks } = this.#host
    const lastEventId = this.#lastEventId
    this.#flags &= ~FirstRead
    if (lastEventId === undefined) {
      const head = await backend.head(this.#topic)
      if (this.#mode !== 'catching-up') return 'more'
      this.#startAt(head)
      return 'caught-up'
    }
    const result = isResumableId(lastEventId)
      ? await backend.read(this.#topic, lastEventId, room)
      : ({ status: 'reset', reason: 'unknown', head: await backend.head(this.#topic) } as const)
    if (this.#mode !== 'catching-up') return 'more'
    if (result.status === 'reset') {
      counters.replayMisses++
      hooks.onReplay?.({ topic: this.#topic, hit: false, events: 0, reason: result.reason })
      return this.#reset(result)
    }
    counters.replayHits++
    hooks.onReplay?.({ topic: this.#topic, hit: true, events: result.events.length })
    this.#cursor = lastEventId
    return this.#take(result.events, room)
  }

  #reset(result: { reason: HubResetData['reason']; head: string }): Progress {
    const data: HubResetData = { reason: result.reason }
    this.#push(createEncodedEvent({ event: 'reset', id: result.head, data: JSON.stringify(data) }))
    this.#cursor = result.head
    return 'caught-up'
  }

  /**
   * Queues the events newer than the cursor while they fit: `full` when one did not, else
   * `caught-up` when the read returned fewer than `limit` (nothing newer in history), else `more`.
   */
  #take(events: readonly SseEvent[], limit: number): Progress {
    for (const event of events) {
      if (this.#cursor !== undefined && this.#compare(event.id, this.#cursor) <= 0) continue
      if (!this.#fits(sizeOf(event))) return 'full'
      this.#push(event)
      this.#cursor = event.id
    }
    return events.length < limit ? 'caught-up' : 'more'
  }

  #goLive(): void {
    this.#mode = 'live'
    this.#flags |= Dedupe
    if (this.#waitTimer !== undefined) {
      clearTimeout(this.#waitTimer)
      this.#waitTimer = undefined
    }
  }

  #offer(event: SseEvent): void {
    if (this.#waiter !== undefined) {
      this.#cursor = event.id
      const waiter = this.#waiter
      this.#waiter = undefined
      waiter.resolve({ done: false, value: event })
      return
    }
    const size = sizeOf(event)
    if (this.#fits(size)) {
      this.#cursor = event.id
      this.#enqueue(event, size)
      this.#wake()
      return
    }
    const { counters, hooks } = this.#host
    const { policy } = this.#bound
    if (policy === 'drop-oldest') {
      let dropped = 0
      while (!this.#fits(size)) {
        const oldest = this.#takeOldest()
        const oldestSize = sizeOf(oldest)
        this.#bytes -= oldestSize
        counters.queuedBytes -= oldestSize
        dropped++
      }
      this.#gap += dropped
      counters.drops += dropped
      hooks.onDrop?.({ topic: this.#topic, dropped })
      this.#cursor = event.id
      this.#enqueue(event, size)
      return
    }
    if (policy === 'wait') {
      // Stop taking live events; the consumer catches up from history (after `cursor`, the last
      // event it was given) once it drains, so the queue stays within its bound and nobody waits.
      this.#mode = 'catching-up'
      this.#flags &= ~Consumed
      this.#armWaitTimer()
      return
    }
    this.#disconnect()
  }

  /** Whether an event of `size` bytes may join the queue; a lone event always may, however big. */
  #fits(size: number): boolean {
    const queued = this.#queued()
    return (
      queued === 0 || (queued < this.#bound.maxEvents && this.#bytes + size <= this.#bound.maxBytes)
    )
  }

  #armWaitTimer(): void {
    if (this.#waitTimer !== undefined) return
    const check = () => {
      this.#waitTimer = undefined
      if (this.#mode !== 'catching-up') return
      if ((this.#flags & Consumed) === 0) {
        this.#disconnect()
        return
      }
      this.#flags &= ~Consumed
      this.#waitTimer = setTimeout(check, this.#bound.waitTimeout)
    }
    this.#waitTimer = setTimeout(check, this.#bound.waitTimeout)
  }

  #disconnect(): void {
    const { counters, hooks } = this.#host
    counters.disconnects++
    hooks.onDisconnect?.({ topic: this.#topic, policy: this.#bound.policy })
    this.#end(
      'overflow',
      new SseError(
        'queue-overflow',
        `A subscriber of topic "${this.#topic}" fell more than its queue bound behind and was disconnected`,
      ),
    )
  }

  #belowLowWater(): boolean {
    return this.#queued() * 2 <= this.#bound.maxEvents && this.#bytes * 2 <= this.#bound.maxBytes
  }

  /** Queues (or hands to a waiting `next()`) an event produced by the subscription itself. */
  #push(event: SseEvent): void {
    if (this.#waiter !== undefined) {
      const waiter = this.#waiter
      this.#waiter = undefined
      waiter.resolve({ done: false, value: event })
      return
    }
    this.#enqueue(event, sizeOf(event))
    this.#wake()
  }

  #enqueue(event: SseEvent, size: number): void {
    if (this.#head === undefined) this.#head = event
    else {
      this.#queue ??= []
      this.#queue.push(event)
    }
    this.#bytes += size
    this.#host.counters.queuedBytes += size
  }

  #compare(a: string | undefined, b: string | undefined): number {
    if (a === undefined || b === undefined) return 1
    return this.#host.backend.compare(a, b)
  }

  #ended(): boolean {
    return this.#mode === 'ended'
  }

  #end(reason: UnsubscribeReason, error?: unknown): void {
    if (this.#mode === 'ended') return
    this.#mode = 'ended'
    this.#endError = error
    this.#host.counters.queuedBytes -= this.#bytes
    this.#head = undefined
    this.#queue = undefined
    this.#front = 0
    this.#bytes = 0
    this.#pending = undefined
    this.#gap = 0
    if (this.#waitTimer !== undefined) clearTimeout(this.#waitTimer)
    this.#waitTimer = undefined
    if (this.#onAbort !== undefined) this.#signal?.removeEventListener('abort', this.#onAbort)
    if ((this.#flags & Attached) !== 0) this.#host.detach(this.#topic, this, reason)
    const waiter = this.#waiter
    this.#waiter = undefined
    if (waiter === undefined) {
      if (error !== undefined) this.#failure = error
      this.#wake()
    } else if (error === undefined) {
      waiter.resolve(done)
    } else {
      waiter.reject(error)
    }
  }
}
