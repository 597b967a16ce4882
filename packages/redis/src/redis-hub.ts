import {
  createEncodedEvent,
  createHub,
  type Hub,
  type HubBackend,
  type HubListener,
  type HubOptions,
  type HubReadResult,
  SseError,
  type SseEvent,
} from '@ssekit/core'
import { Redis, type RedisOptions } from 'ioredis'
import { compareStreamIds, isStreamId } from './_stream-ids.ts'

/**
 * History kept per topic in its Redis Stream.
 * @public
 */
export interface RedisHubHistoryOptions {
  /** Approximate most entries per stream (`XADD … MAXLEN ~`). @defaultValue 1000 */
  maxEvents?: number | undefined
  /**
   * Milliseconds an entry stays replayable (`XTRIM … MINID ~`); a stream nobody publishes to for
   * this long is deleted (`PEXPIRE`). @defaultValue 300000 (5 minutes)
   */
  maxAge?: number | undefined
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
   * it (`duplicate()`) for its shared reader, and leaves the client open on `close()`.
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
// The reader wakes at least this often even without traffic, so a topic added while a blocking
// XREAD was being sent (which CLIENT UNBLOCK cannot reach yet) waits at most this long.
const blockMs = 1000
const readBatch = 1000
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const controlCharacter = /[\u0000-\u001f\u007f]/

/**
 * Creates a {@link Hub} on Redis Streams, so every process behind one Redis shares topics,
 * history and ids.
 *
 * - Each topic is one stream (`<prefix><topic>`, the topic percent-encoded so no topic can reach
 *   another key). `XADD … MAXLEN ~` bounds it, `XTRIM MINID ~` and `PEXPIRE` age it out.
 * - The SSE id is the stream entry id, so a client resumes with `Last-Event-ID` on any process.
 * - One reader per hub (create one hub per process): a single blocking `XREAD` over every topic
 *   that has a local subscriber, reference-counted, so an SSE client never costs a Redis
 *   connection. Two connections in all.
 * - After a dropped connection or a Redis restart the reader reconnects with backoff and reads on
 *   from the last id it delivered, so connected subscribers miss nothing that Redis kept (run
 *   Redis with `appendonly yes` to keep acknowledged events across a restart).
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
  const timeout = options.timeout ?? 5000
  if (typeof prefix !== 'string' || controlCharacter.test(prefix)) {
    throw new SseError('invalid-option', 'prefix must be a string without control characters')
  }
  for (const [name, value] of [
    ['history.maxEvents', maxEvents],
    ['history.maxAge', maxAge],
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
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2000),
  }
  const ownsCommand = options.client === undefined
  const command =
    options.client ??
    new Redis(options.url ?? 'redis://127.0.0.1:6379', {
      ...connectionOptions,
      commandTimeout: timeout,
      enableAutoPipelining: true,
    })
  // The reader's own deadline: a blocking XREAD that outlives its BLOCK time by this much is on a
  // connection that died silently.
  const reader = command.duplicate({
    ...connectionOptions,
    commandTimeout: blockMs + timeout,
    enableAutoPipelining: false,
  })
  command.on('error', reportError)
  reader.on('error', reportError)
  // Host and port only: a URL may carry a password, and this ends up in error messages and logs.
  const where = `${command.options.host ?? '127.0.0.1'}:${command.options.port ?? 6379}`
  let readerId: string | undefined
  try {
    await withDeadline(Promise.all([connected(command), reader.connect()]), timeout)
    readerId = String(await reader.client('ID'))
  } catch (error) {
    reader.disconnect()
    if (ownsCommand) command.disconnect()
    throw new SseError(
      'backend-unavailable',
      `Cannot reach Redis at ${where}: ${messageOf(error)}`,
      {
        cause: error,
      },
    )
  }

  const readers = new Map<string, TopicReader>()
  const maintainedAt = new Map<string, number>()
  let closed = false
  let wake: (() => void) | undefined

  const keyOf = (topic: string) => `${prefix}${encodeURIComponent(topic)}`

  const fail = (action: string, error: unknown) =>
    SseError.isInstance(error)
      ? error
      : new SseError('backend-unavailable', `Redis ${action} failed: ${messageOf(error)}`, {
          cause: error,
        })

  const ensureReady = (action: string) => {
    if (command.status !== 'ready') {
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

  function interruptReader(): void {
    wake?.()
    if (readerId !== undefined && command.status === 'ready') {
      command.client('UNBLOCK', readerId).catch(noop)
    }
  }

  reader.on('ready', () => {
    reader
      .client('ID')
      .then((id) => {
        readerId = String(id)
      })
      .catch(noop)
  })

  async function readLoop(): Promise<void> {
    while (!closed) {
      const active = [...readers.values()].filter((topic) => topic.cursor !== undefined)
      if (active.length === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve
        })
        wake = undefined
        continue
      }
      let reply: [string, [string, string[]][]][] | null
      try {
        reply = (await reader.xread(
          'COUNT',
          readBatch,
          'BLOCK',
          blockMs,
          'STREAMS',
          ...active.map((topic) => topic.key),
          ...active.map((topic) => topic.cursor as string),
        )) as [string, [string, string[]][]][] | null
      } catch (error) {
        if (closed) return
        reportError(error instanceof Error ? error : new Error(String(error)))
        await untilReady(reader, () => closed)
        continue
      }
      if (reply === null) continue
      for (const [key, entries] of reply) {
        const topic = readers.get(key)
        if (topic === undefined || topic.cursor === undefined) continue
        for (const [id, fields] of entries) {
          if (compareStreamIds(id, topic.cursor) <= 0) continue
          topic.cursor = id
          topic.deliver(eventOf(id, fields))
        }
      }
    }
  }
  const loop = readLoop()

  return {
    async append(topic, event) {
      // Validates every field before anything reaches Redis; subscribers encode with the id.
      createEncodedEvent(event)
      ensureReady('XADD')
      const key = keyOf(topic)
      const fields: string[] = ['v', '1']
      if (event.event !== undefined) fields.push('e', event.event)
      if (event.data !== undefined) {
        fields.push('d', typeof event.data === 'string' ? event.data : JSON.stringify(event.data))
      }
      if (event.retry !== undefined) fields.push('r', String(event.retry))
      if (event.comment !== undefined) fields.push('c', event.comment)
      const now = Date.now()
      // Commands sent in the same tick leave in one write (auto-pipelining); only the XADD is
      // awaited. Expiry and age trimming run at most once a second per topic: `~` trims whole
      // nodes lazily anyway, and the TTL carries a second of slack.
      const added = command.xadd(key, 'MAXLEN', '~', maxEvents, '*', ...fields)
      if (now - (maintainedAt.get(key) ?? 0) > 1000) {
        maintainedAt.set(key, now)
        if (maintainedAt.size > 10_000) maintainedAt.clear()
        command.pexpire(key, maxAge + 1000).catch(noop)
        command.xtrim(key, 'MINID', '~', `${Math.max(0, now - maxAge)}-0`).catch(noop)
      }
      let id: string | null
      try {
        id = await added
      } catch (error) {
        throw fail('XADD', error)
      }
      if (typeof id !== 'string') throw fail('XADD', new Error('no id in the reply'))
      return { ...event, id }
    },

    async head(topic) {
      try {
        return await headOf(keyOf(topic))
      } catch (error) {
        throw fail('XINFO', error)
      }
    },

    async read(topic, afterId, limit): Promise<HubReadResult> {
      const key = keyOf(topic)
      let results: [Error | null, unknown][] | null
      try {
        ensureReady('XRANGE')
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
      // Before the first retained entry. Trimming removes the oldest entries, so if any entry
      // was ever removed, one newer than `afterId` may be among them: the replay would have a
      // hole. Without removals only "0-0" (issued before the first event) can be that old.
      if (added > length) return { status: 'reset', reason: 'evicted', head }
      return afterId === '0-0'
        ? { status: 'ok', events: events(), head }
        : { status: 'reset', reason: 'unknown', head }
    },

    listen(topic, deliver): HubListener {
      const key = keyOf(topic)
      const entry: TopicReader = { key, deliver, cursor: undefined }
      readers.set(key, entry)
      const ready = (async () => {
        try {
          ensureReady('XINFO')
          const head = await headOf(key)
          if (readers.get(key) === entry) entry.cursor = head
        } catch (error) {
          throw fail('XINFO', error)
        }
        interruptReader()
      })()
      ready.catch(noop)
      return {
        ready,
        stop() {
          if (readers.get(key) === entry) readers.delete(key)
        },
      }
    },

    compare(a, b) {
      return isStreamId(a) && isStreamId(b) ? compareStreamIds(a, b) : 0
    },

    async close() {
      if (closed) return
      closed = true
      readers.clear()
      wake?.()
      reader.disconnect()
      await loop.catch(noop)
      if (ownsCommand) await command.quit().catch(() => command.disconnect())
      command.off('error', reportError)
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

async function untilReady(connection: Redis, stop: () => boolean): Promise<void> {
  while (!stop() && connection.status !== 'ready') {
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
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
