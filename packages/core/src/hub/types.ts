import type { SseEvent } from '../types.ts'

/**
 * What a subscriber's queue does when the subscriber falls behind by more than its bound:
 * - `disconnect` (default): the subscription ends with an `SseError` of code `queue-overflow`; the
 *   client reconnects with its `Last-Event-ID` and catches up from history.
 * - `drop-oldest`: the oldest queued events are dropped and a `gap` event (see {@link HubGapData})
 *   is delivered in their place.
 * - `wait`: the subscriber stops taking live events and later catches up from history, so nothing is
 *   lost while history still holds its place; it is disconnected if it consumes nothing for
 *   `waitTimeout` ms.
 * @example
 * ```ts
 * // A dashboard that may skip updates, told how many it skipped:
 * hub.subscribe('metrics', { queue: { maxEvents: 100, policy: 'drop-oldest' } })
 * ```
 * @public
 */
export type HubQueuePolicy = 'disconnect' | 'drop-oldest' | 'wait'

/**
 * The bound on one subscriber's queue of events not yet consumed.
 * @example
 * ```ts
 * const hub = createHub({ queue: { maxEvents: 500, maxBytes: 256 * 1024, policy: 'disconnect' } })
 * ```
 * @public
 */
export interface HubQueueOptions {
  /** Most events that may wait for one subscriber. @defaultValue 1000 */
  maxEvents?: number | undefined
  /** Most encoded bytes that may wait for one subscriber. @defaultValue 1048576 (1 MiB) */
  maxBytes?: number | undefined
  /** What happens when the bound is reached. @defaultValue 'disconnect' */
  policy?: HubQueuePolicy | undefined
  /** For `wait`: milliseconds a full subscriber may go without consuming before it is disconnected. @defaultValue 30000 */
  waitTimeout?: number | undefined
}

/**
 * How much of each topic's past the hub keeps for replay. An event leaves history when any bound is
 * exceeded; a client whose `Last-Event-ID` has left gets a `reset` event.
 * @example
 * ```ts
 * const hub = createHub({ history: { maxEvents: 200, maxBytes: 512 * 1024, maxAge: 60_000 } })
 * ```
 * @public
 */
export interface HubHistoryOptions {
  /** Most events kept per topic. @defaultValue 1000 */
  maxEvents?: number | undefined
  /** Most encoded bytes kept per topic (in memory; Redis bounds by count and age). @defaultValue 1048576 (1 MiB) */
  maxBytes?: number | undefined
  /** Milliseconds an event stays replayable. @defaultValue 300000 (5 minutes) */
  maxAge?: number | undefined
}

/**
 * Options of {@link Hub.subscribe}.
 * @example
 * ```ts
 * const events = hub.subscribe('orders', {
 *   lastEventId: request.headers.get('last-event-id') ?? undefined,
 *   signal: request.signal,
 *   request,
 * })
 * ```
 * @public
 */
export interface HubSubscribeOptions {
  /**
   * The id the client last saw (`Last-Event-ID`). Events after it are replayed first. When it is
   * missing, the subscription starts with an id-only block carrying the current id; when it is
   * unknown, malformed, longer than 1 KiB or no longer in history, with a `reset` event.
   */
  lastEventId?: string | undefined
  /**
   * Ends the subscription (the iterator then reports done) when it fires. A stream that consumes
   * the subscription (`createEventStream`, `sendEventStream`) already calls its `return()` when it
   * ends, so it needs no signal. On Node each signal listener costs about 0.8 KB, which matters at
   * 10 000 idle connections.
   */
  signal?: AbortSignal | undefined
  /** Whatever identifies the caller (a `Request`, a session); handed to the `authorize` hook. */
  request?: unknown
  /** Overrides the hub's queue bound and policy for this subscription. */
  queue?: HubQueueOptions | undefined
}

/**
 * The data of a `reset` event (JSON in `data:`), sent instead of a replay when the client's
 * `Last-Event-ID` cannot be resumed from. The event's `id` is the topic's current id, so the client
 * resumes from there after reloading its state.
 * @example
 * ```ts
 * // In the browser:
 * source.addEventListener('reset', () => reloadEverything())
 * // On the wire: event: reset / id: <current id> / data: {"reason":"evicted"}
 * ```
 * @public
 */
export interface HubResetData {
  /** `unknown`: the id was never issued for this topic (or is malformed); `evicted`: it left history. */
  reason: 'unknown' | 'evicted'
}

/**
 * The data of a `gap` event (JSON in `data:`): `dropped` events were skipped here by the
 * `drop-oldest` policy because the subscriber fell behind.
 * @example
 * ```ts
 * source.addEventListener('gap', (event) => {
 *   const { dropped } = JSON.parse(event.data) as { dropped: number }
 *   showBanner(`${dropped} updates skipped`)
 * })
 * ```
 * @public
 */
export interface HubGapData {
  dropped: number
}

/**
 * A live subscription: an async iterator of events, usable directly as a `createEventStream` source.
 * @example
 * ```ts
 * const events = hub.subscribe('news', { signal })
 * await events.ready
 * for await (const event of events) console.log(event.id, event.data)
 * ```
 * @public
 */
export interface HubSubscription extends AsyncIterableIterator<SseEvent> {
  /**
   * Settles once the subscription is authorised and live: resolves, or rejects with an `SseError`
   * (`unauthorized`, `closed`, `backend-unavailable`). Await it to answer 403 before any header is
   * sent; ignoring it is fine, the first `next()` then rejects instead.
   */
  readonly ready: Promise<void>
  /** Ends the subscription and frees its queue; the iterator then reports done. */
  return(): Promise<IteratorResult<SseEvent, undefined>>
}

/**
 * Counters for a metrics endpoint; see {@link Hub.stats}.
 * @example
 * ```ts
 * const { subscribers, queuedBytes, disconnects } = hub.stats()
 * ```
 * @public
 */
export interface HubStats {
  /** Topics with at least one local subscriber. */
  topics: number
  /** Local subscribers now. */
  subscribers: number
  /** Encoded bytes now waiting in subscriber queues. */
  queuedBytes: number
  /** Events published through this hub instance. */
  published: number
  /** Events dropped by the `drop-oldest` policy. */
  drops: number
  /** Subscribers ended for falling behind (`disconnect`, or `wait` past its timeout). */
  disconnects: number
  /** Subscriptions that resumed from a `Last-Event-ID` found in history. */
  replayHits: number
  /** Subscriptions whose `Last-Event-ID` was unknown or evicted (they got a `reset` event). */
  replayMisses: number
}

/**
 * Lifecycle hooks of a hub, for logging and metrics. Hooks must not throw.
 * @example
 * ```ts
 * const hub = createHub({
 *   onDisconnect: ({ topic }) => metrics.slowConsumers.inc({ topic }),
 *   onReplay: ({ hit }) => metrics.replays.inc({ result: hit ? 'hit' : 'miss' }),
 * })
 * ```
 * @public
 */
export interface HubHooks {
  /** A subscription became live; `subscribers` is the topic's local count with it. */
  onSubscribe?: ((info: { topic: string; subscribers: number }) => void) | undefined
  /** A subscription ended; `subscribers` is the topic's local count after it left. */
  onUnsubscribe?:
    | ((info: {
        topic: string
        subscribers: number
        reason: 'return' | 'abort' | 'overflow' | 'close' | 'error'
      }) => void)
    | undefined
  /** A subscription with a `Last-Event-ID` started: `hit` when it resumed, else it got a `reset`. */
  onReplay?:
    | ((info: {
        topic: string
        hit: boolean
        events: number
        reason?: HubResetData['reason']
      }) => void)
    | undefined
  /** The `drop-oldest` policy dropped `dropped` events of one subscriber. */
  onDrop?: ((info: { topic: string; dropped: number }) => void) | undefined
  /** A subscriber was ended for falling behind. */
  onDisconnect?: ((info: { topic: string; policy: HubQueuePolicy }) => void) | undefined
}

/**
 * Who may subscribe to what. Return `false` to refuse; the subscription then fails with an
 * `SseError` of code `unauthorized`, before any event (replayed or live) is read.
 * @example
 * ```ts
 * const hub = createHub({
 *   authorize: async ({ topic, request }) => topic === `user:${await userIdOf(request as Request)}`,
 * })
 * ```
 * @public
 */
export type HubAuthorize = (context: {
  topic: string
  request: unknown
}) => boolean | Promise<boolean>

/**
 * Options of `createHub`.
 * @example
 * ```ts
 * const hub = createHub({ history: { maxEvents: 100 }, queue: { policy: 'drop-oldest' } })
 * ```
 * @public
 */
export interface HubOptions extends HubHooks {
  /** History bounds of the built-in memory backend. */
  history?: HubHistoryOptions | undefined
  /** Queue bound and policy for every subscriber, or a function choosing them per topic. */
  queue?: HubQueueOptions | ((topic: string) => HubQueueOptions | undefined) | undefined
  /** Authorisation hook, run on every subscribe before anything is read. */
  authorize?: HubAuthorize | undefined
  /** Where events are stored and fanned in from; the memory backend when omitted. */
  backend?: HubBackend | undefined
}

/**
 * A broadcast hub: publish once, deliver the same encoded bytes to every subscriber, replay after a
 * `Last-Event-ID`. Created by `createHub` (in memory) or `createRedisHub` (`@ssekit/redis`).
 * @example
 * ```ts
 * const hub = createHub()
 * const id = await hub.publish('news', { event: 'headline', data: { title: 'Hello' } })
 * const stream = createEventStream(hub.subscribe('news', { lastEventId: id }))
 * ```
 * @public
 */
export interface Hub {
  /**
   * Publishes `event` on `topic`: assigns its id (monotonic per topic), encodes it once and hands
   * the same bytes to every subscriber. Resolves with the id. The event must not carry an `id`.
   */
  publish(topic: string, event: SseEvent): Promise<string>
  /** Subscribes to `topic`: replay after `lastEventId` from history, then live events. */
  subscribe(topic: string, options?: HubSubscribeOptions): HubSubscription
  /** The current counters. */
  stats(): HubStats
  /**
   * Ends every subscription (their iterators report done) and releases the backend. Idempotent.
   * A subscription whose `authorize` is still pending ends once it settles, without attaching;
   * its `ready`, like that of a subscription made after `close()`, rejects with `closed`.
   */
  close(): Promise<void>
  /** Whether `close()` was called. */
  readonly closed: boolean
}

/**
 * The result of {@link HubBackend.read}: the events after the cursor (`ok`), or why the cursor
 * cannot be resumed from (`reset`). `head` is the topic's current id either way.
 * @example
 * ```ts
 * const result = await backend.read('news', lastEventId, 100)
 * if (result.status === 'reset') console.log(result.reason, 'current id', result.head)
 * ```
 * @public
 */
export type HubReadResult =
  | { status: 'ok'; events: SseEvent[]; head: string }
  | { status: 'reset'; reason: HubResetData['reason']; head: string }

/**
 * A live registration made by {@link HubBackend.listen}.
 * @example
 * ```ts
 * const listener = backend.listen('news', (event) => console.log(event.id))
 * await listener.ready
 * listener.stop()
 * ```
 * @public
 */
export interface HubListener {
  /** Resolves once every event appended from now on will be delivered. */
  ready: Promise<void>
  /** Stops delivery. */
  stop(): void
}

/**
 * Storage and fan-in behind a {@link Hub}: the memory backend, or Redis Streams. A backend stores
 * encoded events with ids it assigns, reads history after an id, and delivers each topic's new
 * events in id order to one listener per topic (the hub fans out to its subscribers).
 * Implement it to put the hub on another store.
 * @example
 * ```ts
 * import { createHub } from '@ssekit/core'
 * import { createRedisBackend } from '@ssekit/redis'
 *
 * const hub = createHub({ backend: await createRedisBackend({ url: process.env.REDIS_URL }) })
 * ```
 * @public
 */
export interface HubBackend {
  /** Stores `event` (which has no id) and resolves with the stored event, its `id` set. */
  append(topic: string, event: SseEvent): Promise<SseEvent>
  /** The topic's current id: the last event's id, or an id meaning "before the first event". */
  head(topic: string): Promise<string>
  /** At most `limit` events after `afterId`, oldest first, or a reset when `afterId` cannot be resumed from. */
  read(topic: string, afterId: string, limit: number): Promise<HubReadResult>
  /** Delivers the topic's new events, in id order, to `deliver`. The hub keeps one listener per topic. */
  listen(topic: string, deliver: (event: SseEvent) => void): HubListener
  /** Orders two ids of the same topic (negative when `a` is older). */
  compare(a: string, b: string): number
  /** Releases connections and timers. */
  close(): Promise<void>
}
