import { serialise } from '../encode.ts'
import { SseError } from '../errors.ts'
import type { SseEvent } from '../types.ts'
import { createMemoryBackend } from './_memory-backend.ts'
import { type QueueBound, Subscription, type SubscriptionHost } from './_subscription.ts'
import type {
  Hub,
  HubHooks,
  HubListener,
  HubOptions,
  HubQueueOptions,
  HubStats,
  HubSubscribeOptions,
  HubSubscription,
} from './types.ts'

const maxTopicLength = 1024
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const controlCharacter = /[\u0000-\u001f\u007f]/
const loneSurrogate = /\p{Surrogate}/u

/** A topic with local subscribers. */
interface TopicState {
  subscribers: Set<Subscription>
  /** A fan-out loop is running; an event delivered meanwhile waits in `backlog`. */
  fanningOut: boolean
  /** Events of this topic delivered during a fan-out, in id order; made by the first one. */
  backlog: SseEvent[] | undefined
  listener: HubListener
}

/**
 * Creates a broadcast hub. Without a `backend` it keeps history in memory, for one process; pass
 * the backend of `@ssekit/redis` (or use its `createRedisHub`) to share topics across processes.
 *
 * - `publish(topic, event)` assigns the id, encodes the frame once and shares those bytes with
 *   every subscriber.
 * - `subscribe(topic, { lastEventId, signal, request })` is an async iterable usable directly as a
 *   `createEventStream` source: the events after `lastEventId` from history, then live ones, with
 *   no gap and no duplicate even when a publish races the subscribe.
 * - Without `lastEventId`, a subscription starts with an id-only block (`id: <current>`), so a
 *   client that drops before the next event still resumes without loss.
 * - When `lastEventId` is unknown, malformed, over 1 KiB or evicted from history, the subscription
 *   starts with `event: reset`, `id: <current>` and `data: {"reason":"unknown"|"evicted"}`
 *   ({@link HubResetData}): reload your state, then carry on.
 * - Each subscriber's queue is bounded in events and bytes; see {@link HubQueuePolicy} for what
 *   happens past the bound. A slow subscriber never delays the others.
 *
 * @param options - History bounds, queue bound and policy, `authorize`, metrics hooks.
 * @returns The hub.
 * @example
 * ```ts
 * import { createEventStream, createHub, eventStreamResponse, lastEventIdFrom } from '@ssekit/core'
 *
 * const hub = createHub({
 *   history: { maxEvents: 500, maxAge: 60_000 },
 *   authorize: ({ topic, request }) => topic === `user:${userIdOf(request as Request)}`,
 * })
 *
 * export default {
 *   async fetch(request: Request) {
 *     const topic = `user:${userIdOf(request)}`
 *     const events = hub.subscribe(topic, {
 *       lastEventId: lastEventIdFrom(request),
 *       signal: request.signal,
 *       request,
 *     })
 *     await events.ready // rejects with SseError 'unauthorized' before any header is sent
 *     return eventStreamResponse(createEventStream(events))
 *   },
 * }
 *
 * await hub.publish('user:42', { event: 'notification', data: { text: 'hello' } })
 * ```
 * @public
 */
export function createHub(options: HubOptions = {}): Hub {
  const backend = options.backend ?? createMemoryBackend(options.history)
  const topics = new Map<string, TopicState>()
  const counters: HubStats = {
    topics: 0,
    subscribers: 0,
    queuedBytes: 0,
    published: 0,
    drops: 0,
    disconnects: 0,
    replayHits: 0,
    replayMisses: 0,
  }
  let closed = false
  let closing: Promise<void> | undefined
  let sharedBound: QueueBound | undefined
  const hooks: HubHooks = {
    onSubscribe: guard(options.onSubscribe),
    onUnsubscribe: guard(options.onUnsubscribe),
    onReplay: guard(options.onReplay),
    onDrop: guard(options.onDrop),
    onDisconnect: guard(options.onDisconnect),
  }

  const host: SubscriptionHost = {
    backend,
    hooks,
    counters,
    authorize: options.authorize,
    get closed() {
      return closed
    },
    attach(topic, subscription) {
      let state = topics.get(topic)
      if (state === undefined) {
        const created: TopicState = {
          subscribers: new Set(),
          fanningOut: false,
          backlog: undefined,
          listener: backend.listen(topic, (event) => fanOut(created, event)),
        }
        state = created
        topics.set(topic, state)
        counters.topics++
      }
      state.subscribers.add(subscription)
      counters.subscribers++
      return state.listener.ready
    },
    detach(topic, subscription, reason) {
      const state = topics.get(topic)
      if (state === undefined || !state.subscribers.delete(subscription)) return
      counters.subscribers--
      if (state.subscribers.size === 0) {
        topics.delete(topic)
        counters.topics--
        state.listener.stop()
      }
      hooks.onUnsubscribe?.({ topic, subscribers: state.subscribers.size, reason })
    },
    subscribersOf(topic) {
      return topics.get(topic)?.subscribers.size ?? 0
    },
  }

  /**
   * Hands `event` to every subscriber of the topic. A hook run during the loop (`onDrop`,
   * `onDisconnect`, `onUnsubscribe`) may publish to the same topic, and a backend that delivers
   * within `append()` (the memory one) would then start a second loop inside this one: the
   * subscribers after the current one would get the newer event first. Such an event waits in
   * the backlog until the loop has handed the current one to everyone.
   */
  function fanOut(state: TopicState, event: SseEvent): void {
    if (state.fanningOut) {
      if (state.backlog === undefined) state.backlog = [event]
      else state.backlog.push(event)
      return
    }
    state.fanningOut = true
    try {
      for (const subscriber of state.subscribers) subscriber.deliver(event)
      const { backlog } = state
      if (backlog !== undefined) {
        // Indexed, not iterated: hooks may append to the backlog while it is being delivered.
        for (let index = 0; index < backlog.length; index++) {
          const next = backlog[index] as SseEvent
          for (const subscriber of state.subscribers) subscriber.deliver(next)
        }
      }
    } finally {
      state.backlog = undefined
      state.fanningOut = false
    }
  }

  return {
    get closed() {
      return closed
    },

    async publish(topic: string, event: SseEvent): Promise<string> {
      assertTopic(topic)
      if (typeof event !== 'object' || event === null) {
        throw new TypeError(
          `hub.publish(topic, event): event must be an object such as { data: 'hello' }, got ${event === null ? 'null' : typeof event}`,
        )
      }
      if (event.id !== undefined) {
        throw new TypeError(
          'hub.publish(topic, event): the hub assigns event ids; publish the event without `id`',
        )
      }
      if (closed) throw new SseError('closed', 'hub.publish() was called after hub.close()')
      // Subscribers of every backend see the same event: `data` as the string the client gets.
      const stored = await backend.append(topic, withStringData(event))
      counters.published++
      return stored.id as string
    },

    subscribe(topic: string, subscribeOptions: HubSubscribeOptions = {}): HubSubscription {
      assertTopic(topic)
      const { lastEventId } = subscribeOptions
      if (lastEventId !== undefined && typeof lastEventId !== 'string') {
        throw new TypeError(
          `hub.subscribe(topic, { lastEventId }): lastEventId must be a string or undefined, got ${typeof lastEventId}`,
        )
      }
      let bound: QueueBound
      if (typeof options.queue !== 'function' && subscribeOptions.queue === undefined) {
        // The common case shares one resolved bound (read-only) rather than one per subscriber.
        sharedBound ??= resolveQueue({ ...options.queue })
        bound = sharedBound
      } else {
        const topicQueue =
          typeof options.queue === 'function' ? options.queue(topic) : options.queue
        bound = resolveQueue({ ...topicQueue, ...subscribeOptions.queue })
      }
      return new Subscription(host, topic, bound, subscribeOptions)
    },

    stats(): HubStats {
      return { ...counters }
    },

    close(): Promise<void> {
      if (closing !== undefined) return closing
      closed = true
      for (const state of [...topics.values()]) {
        for (const subscriber of [...state.subscribers]) subscriber.close()
      }
      closing = backend.close()
      return closing
    },
  }
}

/**
 * Hooks run inside a publish's fan-out loop: one that throws must not skip the subscribers after
 * it, nor be swallowed. It is reported the way an event listener's error is (`reportError`, or an
 * uncaught exception on a later tick).
 */
function guard<Info>(hook: ((info: Info) => void) | undefined): ((info: Info) => void) | undefined {
  if (hook === undefined) return undefined
  return (info) => {
    try {
      hook(info)
    } catch (error) {
      const report = (globalThis as { reportError?: (error: unknown) => void }).reportError
      if (typeof report === 'function') report(error)
      else
        queueMicrotask(() => {
          throw error
        })
    }
  }
}

function withStringData(event: SseEvent): SseEvent {
  const { data } = event
  if (data === undefined || typeof data === 'string') return event
  return { ...event, data: serialise(data) }
}

function assertTopic(topic: unknown): asserts topic is string {
  if (typeof topic !== 'string' || topic.length === 0 || topic.length > maxTopicLength) {
    throw new TypeError(
      `A hub topic must be a non-empty string of at most ${maxTopicLength} characters, got ${typeof topic === 'string' ? `${topic.length} characters` : typeof topic}`,
    )
  }
  if (controlCharacter.test(topic)) {
    throw new TypeError(
      'A hub topic must not contain control characters (CR, LF, NUL and the like)',
    )
  }
  // A key or channel name needs the topic as UTF-8, which a lone surrogate does not have.
  if (loneSurrogate.test(topic)) {
    throw new TypeError('A hub topic must be well-formed Unicode: it has a lone surrogate')
  }
}

function resolveQueue(queue: HubQueueOptions): QueueBound {
  const bound: QueueBound = {
    maxEvents: queue.maxEvents ?? 1000,
    maxBytes: queue.maxBytes ?? 1024 * 1024,
    policy: queue.policy ?? 'disconnect',
    waitTimeout: queue.waitTimeout ?? 30_000,
  }
  for (const key of ['maxEvents', 'maxBytes', 'waitTimeout'] as const) {
    const value = bound[key]
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new SseError(
        'invalid-option',
        `queue.${key} must be a positive integer, got ${String(value)}`,
      )
    }
  }
  if (bound.policy !== 'disconnect' && bound.policy !== 'drop-oldest' && bound.policy !== 'wait') {
    throw new SseError(
      'invalid-option',
      `queue.policy must be 'disconnect', 'drop-oldest' or 'wait', got ${String(bound.policy)}`,
    )
  }
  return bound
}
