import {
  createEncodedEvent,
  createHub,
  encodeEvent,
  type Hub,
  type HubBackend,
  type HubListener,
  type HubOptions,
  type HubReadResult,
  type HubResetData,
  SseError,
  type SseEvent,
} from '@ssekit/core'
import { Redis, type RedisOptions } from 'ioredis'
import { compareStreamIds, isStreamId, nextStreamId } from './_stream-ids.ts'

/**
 * History kept per topic in its Redis Stream.
 * @public
 */
export interface RedisHubHistoryOptions {
  /** Approximate most entries per stream (`XADD … MAXLEN ~`). @defaultValue 1000 */
  maxEvents?: number | undefined
  /**
   * Milliseconds an entry stays replayable (`XTRIM … MINID`). A stream nobody publishes to for this
   * long is emptied but keeps its last id, so clients that had every event resume without a
   * reset; it is deleted (`PEXPIRE`) `lastIdMaxAge` later. @defaultValue 300000 (5 minutes)
   */
  maxAge?: number | undefined
  /**
   * Milliseconds a stream emptied by `maxAge` keeps its last id (a few hundred bytes in Redis), so
   * that a client that had every event resumes without a reset. Lower it when topics are many and
   * short-lived (one per LLM answer, say). @defaultValue 86400000 (1 day)
   */
  lastIdMaxAge?: number | undefined
}

/**
 * Options of {@link createRedisHub}: the core hub's options (queue, `authorize`, hooks) plus where
 * Redis is and how topics map to keys.
 * @public
 */
export interface RedisHubOptions extends Omit<HubOptions, 'backend' | 'history'> {
  /** A `redis://` URL. Used when `client` is not given. @defaultValue 'redis://127.0.0.1:6379' */
  url?: string | undefined
  /**
   * An ioredis client to publish and read history with. The hub opens one more connection from
   * it (`duplicate()`) for its subscriptions, and leaves the client open on `close()`.
   */
  client?: Redis | undefined
  /** Prepended to every stream key. @defaultValue 'ssekit:' */
  prefix?: string | undefined
  history?: RedisHubHistoryOptions | undefined
  /** Milliseconds to wait for Redis at start and for each command. @defaultValue 5000 */
  timeout?: number | undefined
  /** Called when a Redis connection fails or drops (the hub reconnects by itself). */
  onBackendError?: ((error: Error) => void) | undefined
}

const noop = () => {}
const readBatch = 1000
// A subscriber connection carries no replies of its own, so a silently dead one is only noticed
// by asking: a PING this often, and a reconnect when it goes unanswered.
const pingInterval = 5000
// Appends and announces in one step: a subscriber that is connected sees every entry, in order,
// without reading the stream back. The announcement is `[id, field, value, …]` as JSON.
const appendScript = `
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(ARGV, 2))
ARGV[1] = id
redis.call('PUBLISH', KEYS[1], cjson.encode(ARGV))
return id`
// Removes a stream's entries older than ARGV[1]. A stream left empty still has its last id (XINFO's
// `last-generated-id`), but the next entry would hide it: so it is recorded as the last removed
// entry (`max-deleted-entry-id`), and `entries-added` starts again from 0 so that any later trim
// still shows. `readAfter` relies on both. No consumer groups use these streams, so nothing else
// reads `entries-added`.
const emptyScript = `
redis.call('XTRIM', KEYS[1], 'MINID', ARGV[1])
if redis.call('XLEN', KEYS[1]) > 0 or redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
for index = 1, #info - 1, 2 do
  if info[index] == 'last-generated-id' then
    local last = info[index + 1]
    redis.call('XSETID', KEYS[1], last, 'ENTRIESADDED', 0, 'MAXDELETEDID', last)
  end
end
return 1`
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const controlCharacter = /[\u0000-\u001f\u007f]/

/**
 * Creates a {@link Hub} on Redis Streams, so every process behind one Redis shares topics,
 * history and ids.
 *
 * - Each topic is one stream (`<prefix><topic>`, the topic percent-encoded so no topic can reach
 *   another key). `XADD … MAXLEN ~` bounds it and `XTRIM … MINID` ages its entries out. A quiet
 *   stream keeps its last id, so a client that had every event resumes without a reset, until
 *   `PEXPIRE` deletes it `maxAge` plus `lastIdMaxAge` (a day) after the last publish.
 * - The SSE id is the stream entry id, so a client resumes with `Last-Event-ID` on any process.
 * - Live delivery: a script appends the entry (`XADD`) and announces it on the channel of the
 *   same name (`PUBLISH`) atomically. Each hub has one subscriber connection, subscribed to the
 *   channels of the topics that have a local subscriber (reference-counted), so an SSE client
 *   never costs a Redis connection and a publish costs the same whatever the number of topics.
 *   Two connections in all; create one hub per process.
 * - After a dropped connection or a Redis restart both connections reconnect with backoff, and
 *   every topic reads its stream on (`XRANGE`) from the last id it delivered, so connected
 *   subscribers miss nothing that Redis kept (run Redis with `appendonly yes` to keep
 *   acknowledged events across a restart).
 * - `publish` while Redis is unreachable rejects at once with `SseError` `backend-unavailable`.
 *
 * Why ioredis: it reconnects by itself with a pluggable backoff, can fail commands immediately
 * while disconnected (`enableOfflineQueue: false`) instead of queueing them, returns stream
 * replies as plain arrays, and runs on Node 20.
 *
 * @param options - Where Redis is, the key prefix, history bounds, and the core hub options.
 * @returns The hub, once both connections are up.
 * @throws SseError `backend-unavailable` when Redis cannot be reached within `timeout`.
 * @example
 * ```ts
 * import { createEventStream, eventStreamResponse, lastEventIdFrom } from '@ssekit/core'
 * import { createRedisHub } from '@ssekit/redis'
 *
 * const hub = await createRedisHub({ url: process.env.REDIS_URL, prefix: 'app:sse:' })
 *
 * // Any process:
 * await hub.publish('prices', { event: 'price', data: { symbol: 'ACME', price: 9.5 } })
 *
 * // Any other process: resumes with the same ids.
 * const stream = createEventStream(
 *   hub.subscribe('prices', { lastEventId: lastEventIdFrom(request), signal: request.signal }),
 * )
 * return eventStreamResponse(stream)
 * ```
 * @public
 */
export async function createRedisHub(options: RedisHubOptions = {}): Promise<Hub> {
  const { url, client, prefix, history, timeout, onBackendError, ...hubOptions } = options
  const backend = await createRedisBackend({
    url,
    client,
    prefix,
    history,
    timeout,
    onBackendError,
  })
  return createHub({ ...hubOptions, backend })
}

interface TopicReader {
  key: string
  deliver: (event: SseEvent) => void
  /** The last id delivered (or the head when listening started); undefined until known. */
  cursor: string | undefined
  /** An `XRANGE` catch-up is running. */
  reading: boolean
  /** Announcements may have been missed or skipped: read the stream on from `cursor`. */
  stale: boolean
}

/**
 * The Redis Streams {@link HubBackend} behind {@link createRedisHub}; use it to build a hub with
 * `createHub({ backend })` yourself.
 *
 * @example
 * ```ts
 * import { createHub } from '@ssekit/core'
 * import { createRedisBackend } from '@ssekit/redis'
 *
 * const hub = createHub({ backend: await createRedisBackend({ url: 'redis://127.0.0.1:6379' }) })
 * ```
 * @public
 */
export async function createRedisBackend(
  options: Pick<
    RedisHubOptions,
    'url' | 'client' | 'prefix' | 'history' | 'timeout' | 'onBackendError'
  > = {},
): Promise<HubBackend> {
  const prefix = options.prefix ?? 'ssekit:'
  const maxEvents = options.history?.maxEvents ?? 1000
  const maxAge = options.history?.maxAge ?? 5 * 60_000
  // The memory hub keeps a topic's last id for good; this bounds what topics that are never used
  // again leave in Redis.
  const lastIdMaxAge = options.history?.lastIdMaxAge ?? 24 * 60 * 60_000
  const timeout = options.timeout ?? 5000
  if (typeof prefix !== 'string' || controlCharacter.test(prefix)) {
    throw new SseError('invalid-option', 'prefix must be a string without control characters')
  }
  for (const [name, value] of [
    ['history.maxEvents', maxEvents],
    ['history.maxAge', maxAge],
    ['history.lastIdMaxAge', lastIdMaxAge],
    ['timeout', timeout],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new SseError(
        'invalid-option',
        `${name} must be a positive integer, got ${String(value)}`,
      )
    }
  }
  const reportError = (error: Error) => options.onBackendError?.(error)
  const connectionOptions: RedisOptions = {
    lazyConnect: true,
    // Fail commands at once while disconnected rather than queueing them: a publish must either
    // reach Redis or reject, and an XADD resent after a reconnect could be stored twice.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectTimeout: timeout,
    commandTimeout: timeout,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2000),
  }
  const ownsCommand = options.client === undefined
  const command =
    options.client ??
    new Redis(options.url ?? 'redis://127.0.0.1:6379', {
      ...connectionOptions,
      enableAutoPipelining: true,
    })
  // Channels are resubscribed by hand after a reconnect, from the topics listening then, and
  // each topic then catches up from its cursor.
  const subscriber = command.duplicate({
    ...connectionOptions,
    autoResubscribe: false,
    enableAutoPipelining: false,
  })
  command.on('error', reportError)
  subscriber.on('error', reportError)
  // Host and port only: a URL may carry a password, and this ends up in error messages and logs.
  const where = `${command.options.host ?? '127.0.0.1'}:${command.options.port ?? 6379}`
  try {
    await withDeadline(Promise.all([connected(command), subscriber.connect()]), timeout)
  } catch (error) {
    subscriber.disconnect()
    if (ownsCommand) command.disconnect()
    throw new SseError(
      'backend-unavailable',
      `Cannot reach Redis at ${where}: ${messageOf(error)}`,
      {
        cause: error,
      },
    )
  }

  const topics = new Map<string, TopicReader>()
  const maintainedAt = new Map<string, number>()
  // The last entry this process appended to each stream, and when Redis acknowledged it, until
  // the sweep below takes it. A key moves to the end on each append, so the oldest come first.
  const appended = new Map<string, { id: string; at: number }>()
  let closed = false
  // Appends sent and not answered yet; close() waits for them (see there).
  let appending = 0
  let onAppended: (() => void) | undefined

  const keyOf = (topic: string) => `${prefix}${encodeURIComponent(topic)}`

  const fail = (action: string, error: unknown) =>
    SseError.isInstance(error)
      ? error
      : new SseError('backend-unavailable', `Redis ${action} failed: ${messageOf(error)}`, {
          cause: error,
        })

  const ensureReady = (connection: Redis, action: string) => {
    if (connection.status !== 'ready') {
      throw new SseError('backend-unavailable', `Redis ${action} failed: not connected to ${where}`)
    }
  }

  async function streamInfo(key: string): Promise<Map<string, unknown> | undefined> {
    try {
      return pairs((await command.xinfo('STREAM', key)) as unknown[])
    } catch (error) {
      if (messageOf(error).includes('no such key')) return undefined
      throw error
    }
  }

  async function headOf(key: string): Promise<string> {
    const info = await streamInfo(key)
    return info === undefined ? '0-0' : String(info.get('last-generated-id'))
  }

  /** Entries after `afterId`, or why it cannot be resumed from; see the README for the rules. */
  async function readAfter(key: string, afterId: string, limit: number): Promise<HubReadResult> {
    let results: [Error | null, unknown][] | null
    try {
      ensureReady(command, 'XRANGE')
      // One transaction, so a trim cannot slip between the eviction check and the range.
      results = await command
        .multi()
        .xinfo('STREAM', key)
        .xrange(key, `(${isStreamId(afterId) ? afterId : '0-0'}`, '+', 'COUNT', limit)
        .exec()
    } catch (error) {
      throw fail('XRANGE', error)
    }
    const [infoResult, rangeResult] = results ?? []
    if (infoResult === undefined || rangeResult === undefined || rangeResult[0] !== null) {
      throw fail('XRANGE', rangeResult?.[0] ?? new Error('no reply'))
    }
    const missing = infoResult[0] !== null && messageOf(infoResult[0]).includes('no such key')
    if (infoResult[0] !== null && !missing) throw fail('XINFO', infoResult[0])
    const info = missing ? undefined : pairs(infoResult[1] as unknown[])
    const head = info === undefined ? '0-0' : String(info.get('last-generated-id'))
    if (!isStreamId(afterId) || compareStreamIds(afterId, head) > 0) {
      return { status: 'reset', reason: 'unknown', head }
    }
    const events = () =>
      (rangeResult[1] as [string, string[]][]).map(([id, fields]) => eventOf(id, fields))
    if (info === undefined || afterId === head) {
      // No stream: only the "before the first event" id is known. At the head: nothing to miss.
      return afterId === head
        ? { status: 'ok', events: [], head }
        : { status: 'reset', reason: 'unknown', head }
    }
    const length = Number(info.get('length'))
    const added = Number(info.get('entries-added'))
    const first = length > 0 ? String(info.get('recorded-first-entry-id')) : undefined
    if (first !== undefined && compareStreamIds(afterId, first) >= 0) {
      return { status: 'ok', events: events(), head }
    }
    // Before the first retained entry. Trimming removes the oldest entries, so if any entry was
    // removed since the stream began or was last emptied, one newer than `afterId` may be among
    // them: the replay would have a hole.
    if (added > length) return { status: 'reset', reason: 'evicted', head }
    // Without such removals only the stream's start is that old: "0-0" (issued before the first
    // event), or the last id it had when it was emptied (see `emptyScript`). Older ids had their
    // successors removed, and any other was never issued.
    const start = String(info.get('max-deleted-entry-id'))
    if (afterId === start) return { status: 'ok', events: events(), head }
    return compareStreamIds(afterId, start) < 0
      ? { status: 'reset', reason: 'evicted', head }
      : { status: 'reset', reason: 'unknown', head }
  }

  function deliver(topic: TopicReader, id: string, fields: string[]): void {
    if (topic.cursor === undefined || compareStreamIds(id, topic.cursor) <= 0) return
    topic.cursor = id
    topic.deliver(eventOf(id, fields))
  }

  /** Reads a topic's stream on from its cursor until nothing is left; one read at a time. */
  async function catchUp(topic: TopicReader): Promise<void> {
    topic.stale = true
    if (topic.reading || topic.cursor === undefined || closed) return
    topic.reading = true
    try {
      while (topic.stale && topics.get(topic.key) === topic && !closed) {
        topic.stale = false
        const result = await readAfter(topic.key, topic.cursor, readBatch)
        if (result.status === 'ok') {
          for (const event of result.events) {
            if (compareStreamIds(event.id as string, topic.cursor) <= 0) continue
            topic.cursor = event.id as string
            topic.deliver(event)
          }
          if (result.events.length === readBatch) topic.stale = true
        } else if (result.head !== '0-0') {
          // Entries after the cursor were trimmed (a long outage, a Redis restart without its
          // data): the live subscribers get the same explicit reset a reconnecting client would.
          const data: HubResetData = { reason: result.reason }
          topic.cursor = result.head
          topic.deliver(
            createEncodedEvent({ event: 'reset', id: result.head, data: JSON.stringify(data) }),
          )
        }
        // No stream at all: it expired with nothing new, so there is nothing to miss.
      }
    } catch (error) {
      // Left stale: the next announcement or reconnect reads on from the same cursor.
      topic.stale = true
      reportError(error instanceof Error ? error : new Error(String(error)))
    } finally {
      topic.reading = false
    }
  }

  subscriber.on('message', (channel: string, message: string) => {
    const topic = topics.get(channel)
    if (topic === undefined) return
    if (topic.reading || topic.stale || topic.cursor === undefined) {
      // A read is under way or due: it will find this entry in the stream.
      void catchUp(topic)
      return
    }
    let announced: unknown
    try {
      announced = JSON.parse(message)
    } catch {
      announced = undefined
    }
    if (!Array.isArray(announced) || typeof announced[0] !== 'string') {
      void catchUp(topic)
      return
    }
    deliver(topic, announced[0], announced.slice(1) as string[])
  })

  // After any reconnect: subscribe again to every listening topic, then read each one on from
  // its cursor, which recovers whatever was announced while a connection was down.
  const resume = () => {
    if (closed) return
    const keys = [...topics.keys()]
    const subscribed = keys.length > 0 ? subscriber.subscribe(...keys) : Promise.resolve()
    subscribed.then(
      () => {
        for (const topic of topics.values()) void catchUp(topic)
      },
      (error: unknown) => reportError(error instanceof Error ? error : new Error(String(error))),
    )
  }
  // Both connections are up by now, so every later 'ready' is a reconnect.
  subscriber.on('ready', resume)
  const onDropped = () => {
    if (!closed) reportError(new Error(`The connection to Redis at ${where} dropped; reconnecting`))
  }
  subscriber.on('close', onDropped)
  command.on('close', onDropped)
  const onCommandReady = () => {
    for (const topic of topics.values()) void catchUp(topic)
  }
  command.on('ready', onCommandReady)
  // Empties each stream this process appended to once its last entry here is `maxAge` old, so a
  // quiet stream keeps its last id but not its entries; one appended to since by another process
  // loses only what is older. This takes a timer because a quiet stream gets no publish to do it.
  const sweeper = setInterval(
    () => {
      if (command.status !== 'ready') return
      const now = Date.now()
      for (const [key, last] of appended) {
        if (now - last.at < maxAge) break
        appended.delete(key)
        command.eval(emptyScript, 1, key, nextStreamId(last.id)).catch(noop)
      }
    },
    Math.min(maxAge, 1000),
  )
  sweeper.unref?.()
  const pinger = setInterval(() => {
    if (subscriber.status !== 'ready') return
    subscriber.ping().catch(() => {
      if (!closed && subscriber.status === 'ready') subscriber.disconnect(true)
    })
  }, pingInterval)
  pinger.unref?.()

  return {
    async append(topic, event) {
      // Validates every field before anything reaches Redis; subscribers encode with the id.
      encodeEvent(event)
      ensureReady(command, 'XADD')
      const key = keyOf(topic)
      const fields: string[] = ['v', '1']
      if (event.event !== undefined) fields.push('e', event.event)
      if (event.data !== undefined) {
        fields.push('d', typeof event.data === 'string' ? event.data : JSON.stringify(event.data))
      }
      if (event.retry !== undefined) fields.push('r', String(event.retry))
      if (event.comment !== undefined) fields.push('c', event.comment)
      const now = Date.now()
      // Commands sent in the same tick leave in one write (auto-pipelining); only the append is
      // awaited. Expiry and age trimming run at most once a second per topic: `~` trims whole
      // nodes lazily anyway, and the sweep empties a stream once it is quiet.
      const added = command.eval(appendScript, 1, key, maxEvents, ...fields)
      if (now - (maintainedAt.get(key) ?? 0) > 1000) {
        maintainedAt.set(key, now)
        if (maintainedAt.size > 10_000) maintainedAt.clear()
        command.pexpire(key, maxAge + lastIdMaxAge).catch(noop)
        command.xtrim(key, 'MINID', '~', `${Math.max(0, now - maxAge)}-0`).catch(noop)
      }
      let id: unknown
      appending++
      try {
        id = await added
      } catch (error) {
        throw fail('XADD', error)
      } finally {
        if (--appending === 0) onAppended?.()
      }
      if (typeof id !== 'string') throw fail('XADD', new Error('no id in the reply'))
      // Replies on one connection come in order, so this is the newest entry this process made.
      appended.delete(key)
      appended.set(key, { id, at: Date.now() })
      return { ...event, id }
    },

    async head(topic) {
      try {
        return await headOf(keyOf(topic))
      } catch (error) {
        throw fail('XINFO', error)
      }
    },

    read(topic, afterId, limit) {
      return readAfter(keyOf(topic), afterId, limit)
    },

    listen(topic, deliverEvent): HubListener {
      const key = keyOf(topic)
      const entry: TopicReader = {
        key,
        deliver: deliverEvent,
        cursor: undefined,
        reading: false,
        stale: false,
      }
      topics.set(key, entry)
      const ready = (async () => {
        try {
          ensureReady(subscriber, 'SUBSCRIBE')
          // Subscribed first, then the head: every entry after the head is announced to us.
          await subscriber.subscribe(key)
          const head = await headOf(key)
          if (topics.get(key) !== entry) return
          entry.cursor = head
          if (entry.stale) void catchUp(entry)
        } catch (error) {
          throw fail('SUBSCRIBE', error)
        }
      })()
      ready.catch(noop)
      return {
        ready,
        stop() {
          if (topics.get(key) !== entry) return
          topics.delete(key)
          if (subscriber.status === 'ready') subscriber.unsubscribe(key).catch(noop)
        },
      }
    },

    compare(a, b) {
      return isStreamId(a) && isStreamId(b) ? compareStreamIds(a, b) : 0
    },

    async close() {
      if (closed) return
      closed = true
      clearInterval(pinger)
      clearInterval(sweeper)
      appended.clear()
      topics.clear()
      subscriber.disconnect()
      command.off('ready', onCommandReady)
      command.off('close', onDropped)
      // A publish accepted before close() still reaches Redis: auto-pipelining sends it on the next
      // tick, and a QUIT sent now would overtake it and fail it.
      if (appending > 0) {
        await withDeadline(
          new Promise<void>((resolve) => {
            onAppended = resolve
          }),
          timeout,
        ).catch(noop)
      }
      command.off('error', reportError)
      if (ownsCommand) await command.quit().catch(() => command.disconnect())
    },
  }
}

function eventOf(id: string, fields: string[]): SseEvent {
  const event: SseEvent = { id }
  for (let index = 0; index + 1 < fields.length; index += 2) {
    const value = fields[index + 1] as string
    switch (fields[index]) {
      case 'e':
        event.event = value
        break
      case 'd':
        event.data = value
        break
      case 'r':
        event.retry = Number(value)
        break
      case 'c':
        event.comment = value
        break
    }
  }
  return createEncodedEvent(event)
}

function pairs(flat: unknown[]): Map<string, unknown> {
  const map = new Map<string, unknown>()
  for (let index = 0; index + 1 < flat.length; index += 2)
    map.set(String(flat[index]), flat[index + 1])
  return map
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** Connects a client that was created with `lazyConnect`, or waits for one already connecting. */
function connected(client: Redis): Promise<unknown> {
  if (client.status === 'ready') return Promise.resolve()
  if (client.status === 'wait') return client.connect()
  return new Promise((resolve, reject) => {
    client.once('ready', resolve)
    client.once('end', () => reject(new Error('the connection ended')))
  })
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}
