import {
  addHeartbeat,
  clock,
  type HeartbeatTarget,
  removeHeartbeat,
  scheduleHeartbeat,
} from './_heartbeat.ts'
import { isPullSource, type PullReader, type PullSource, pullKey } from './_pull-source.ts'
import {
  encodedFrameOf,
  encodeParts,
  encodeText,
  formatEvent,
  formatFields,
  isOneLine,
  longData,
} from './encode.ts'
import { SseError } from './errors.ts'
import type {
  CloseReason,
  EventStreamHooks,
  EventStreamSource,
  EventStreamSummary,
  SseEvent,
} from './types.ts'

/**
 * Where a pump writes. `write` returns `false` when the consumer is full (a node:http `write()` that
 * returned false, a `ReadableStream` controller whose `desiredSize` is 0 or less); the pump then
 * stops advancing the source until {@link EventPump.resume} is called.
 *
 * @example
 * ```ts
 * import type { EventSink } from '@ssekit/core/adapter'
 *
 * const sink: EventSink = {
 *   write: (chunk) => response.write(chunk), // false once the socket buffer is full
 *   close: () => response.end(),
 *   error: () => response.destroy(),
 * }
 * ```
 * @public
 */
export interface EventSink {
  /** Hands one chunk (one or more whole frames) to the consumer; `false` means "full, wait". */
  write(chunk: Uint8Array): boolean
  /** The stream ended (source done, final event written, or shutdown): finish the response. */
  close(): void
  /**
   * The stream failed in a way the consumer must see. The pump calls it only when the
   * application's own `onError` hook threw, with an `SseError` (`source-error`) that carries no
   * detail of the original error; every other ending goes through `close()`.
   */
  error(reason: unknown): void
  /**
   * `true` when the consumer never modifies or transfers a chunk it is given (node:http `write()`
   * copies into the socket). Then an event from `createEncodedEvent` that makes up a chunk alone is
   * written as the very bytes every other stream shares; otherwise it is copied first, so no
   * consumer can corrupt the others' frames.
   */
  readonly sharesChunks?: boolean | undefined
  /**
   * Called once when the stream has ended, with the same summary as `onClose` and before it: how
   * an adapter learns the end without wrapping the application's hooks in a closure per stream.
   */
  onEnd?(summary: EventStreamSummary): void
}

/**
 * Options of {@link createEventPump}: the same as `createEventStream`'s.
 *
 * @example
 * ```ts
 * import type { EventPumpOptions } from '@ssekit/core/adapter'
 *
 * const options: EventPumpOptions = {
 *   retry: 3_000,
 *   heartbeat: 10_000,
 *   onError: () => ({ event: 'error', data: 'temporarily unavailable' }),
 *   onClose: ({ reason, events, bytes, durationMs }) => log.info({ reason, events, bytes, durationMs }),
 * }
 * ```
 * @public
 */
export interface EventPumpOptions extends EventStreamHooks {
  /** Sent first as `retry: <ms>`, the client's reconnection delay. */
  retry?: number | undefined
  /**
   * Milliseconds without any write after which a `:` comment is sent to keep proxies and the
   * client from timing the stream out; never sent while the consumer is full. `false` disables it.
   * @defaultValue 15000
   */
  heartbeat?: number | false | undefined
  /** How many bytes may wait for a slow consumer before the source is paused. @defaultValue 65536 */
  highWaterMark?: number | undefined
  /** The client's last event id, passed to a source function. */
  lastEventId?: string | undefined
  /** Ends the stream (reason `abort`) when it fires. */
  signal?: AbortSignal | undefined
  /**
   * Ends the stream cleanly (reason `lifetime`) after this many milliseconds plus a random share
   * of `lifetimeJitter`. The client reconnects with its `Last-Event-ID`, so nothing a hub keeps is
   * lost; what it gains: long-lived connections rebalance across servers after a deploy or a
   * scale-out, and authorisation is checked again on the new request. Off by default.
   */
  maxLifetime?: number | undefined
  /**
   * Up to this many milliseconds (uniformly random per stream) are added to `maxLifetime`, so the
   * streams a server opened together do not all end, and reconnect, in the same instant.
   * @defaultValue a tenth of `maxLifetime`
   */
  lifetimeJitter?: number | undefined
  /**
   * Called when the source throws. Return an event to send it as the last one (the client never
   * sees the error itself unless you put it there); return nothing to just end the stream.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a handler that returns nothing is the common case.
  onError?: ((error: unknown) => SseEvent | undefined | void) | undefined
}

/**
 * One running stream. The consumer calls `resume()` whenever it has room again (after `drain`, on
 * `pull()`), and `cancel()` when it goes away.
 *
 * @example
 * ```ts
 * const pump = createEventPump(source, sink, options)
 * response.on('drain', () => pump.resume())
 * response.on('close', () => void pump.cancel())
 * // On shutdown: tell the client when to come back, then end.
 * await pump.close({ retry: 5_000 })
 * ```
 * @public
 */
export interface EventPump {
  /** The consumer has room: advance the source until the sink is full again or the source waits. */
  resume(): void
  /**
   * The consumer is gone: run the source's `return()`, abort its signal, clear timers, call
   * `onClose`. Nothing more is written. Idempotent; the promise settles once the source's
   * `return()` has (an async generator parked in an `await` finishes when that await does, which
   * is why a source function should honour its `signal`).
   */
  cancel(reason?: CloseReason): Promise<void>
  /**
   * Ends the stream on purpose (server shutdown): writes `finalEvent` if given (a `retry:` hint,
   * say), then closes the sink. Idempotent.
   */
  close(finalEvent?: SseEvent): Promise<void>
  /** Whether the stream has ended. */
  readonly closed: boolean
}

/** The default of {@link EventPumpOptions.heartbeat}. @internal */
export const defaultHeartbeat = 15_000
/** The default of {@link EventPumpOptions.highWaterMark}. @internal */
export const defaultHighWaterMark = 65_536
/**
 * Frames ready together are joined into chunks of at most about this many UTF-16 code units:
 * large enough that a burst costs a few writes (each chunk is one allocation, and allocating is
 * much of what a chunk of large frames costs beyond copying them), small enough that one chunk
 * never holds a client back long. Below 64 Ki: V8 flattens the joined text before encoding it, and
 * text that is not Latin-1 takes two bytes a character, so a flat string over 128 KiB would go to
 * V8's large-object space, which is slow to allocate. A smaller `highWaterMark` lowers the budget,
 * so a chunk never overshoots the queue by much.
 */
const maxChunkBudget = 61_440
const minChunkBudget = 1_024
/**
 * How many microtask turns a pending `next()` gets to settle before the frames already gathered
 * are written. An async generator that yields a ready value settles within about three turns; a
 * source waiting for I/O cannot settle within any number of them, so this never delays it.
 */
const probeTurns = 8
// setTimeout's largest delay; a longer heartbeat would fire at once.
const maxHeartbeat = 2_147_483_647

const encoder = new TextEncoder()
// A turn through an already settled promise is a plain microtask; queueMicrotask costs more in
// Node, where it also carries async context.
const resolved = Promise.resolve()
const openingComment = encoder.encode(':\n\n')
const heartbeatComment = openingComment

// The last first chunk, with its opening: streams subscribing to one topic in a row all start
// with the same opening and the hub's same id-only block, so they can share these bytes too.
let lastOpening: Uint8Array | undefined
let lastFirstChunk: Uint8Array | undefined
let lastJoined: Uint8Array | undefined

/** `opening` and `chunk` in one chunk; shared with other streams when `shared` (see sharesChunks). */
function withOpening(opening: Uint8Array, chunk: Uint8Array, shared: boolean): Uint8Array {
  if (shared && chunk === lastFirstChunk && opening === lastOpening) return lastJoined as Uint8Array
  const joined = new Uint8Array(opening.byteLength + chunk.byteLength)
  joined.set(opening)
  joined.set(chunk, opening.byteLength)
  if (shared) {
    lastOpening = opening
    lastFirstChunk = chunk
    lastJoined = joined
  }
  return joined
}

// Numbers rather than an enum: the build only erases syntax, it does not transform it.
const State = { Open: 0, Closed: 1 } as const
/** How the source is read: `next()` in a loop, `next()` promises, or the pull fast path. */
const Kind = { Sync: 0, Async: 1, Pull: 2 } as const
// The booleans of Pump.bits (bits 0 to 2 hold its state and kind).
const fullBit = 8
const hotBit = 16
const wokenBit = 32
const runningBit = 64
const tickingBit = 128

/**
 * Pull-source pumps that wrote a chunk moments ago. The first event after a quiet spell goes out
 * at once; the events that follow it within a few microtask turns (a publish loop, a history
 * replay) join one chunk per pump, written when the turns are over. One list and one chain of
 * turns for every pump, so a broadcast costs no promise per subscriber.
 */
const hotPumps: Pump[] = []
let hotIdleTurns = 0
let hotTicking = false

function hotTurn(): void {
  if (++hotIdleTurns < probeTurns) {
    resolved.then(hotTurn)
    return
  }
  hotTicking = false
  // A pump flushed here may be woken again meanwhile and re-join the list.
  const pumps = hotPumps.splice(0)
  for (const pump of pumps) pump.cool()
}

type AnyIterator = Iterator<SseEvent> | AsyncIterator<SseEvent>

/**
 * What a source function is called with. A class with `signal` as a prototype getter: an object
 * literal with a getter would make a closure (and a context for it) per stream.
 */
class SourceContext {
  readonly lastEventId: string | undefined
  readonly #pump: Pump

  constructor(pump: Pump, lastEventId: string | undefined) {
    this.#pump = pump
    this.lastEventId = lastEventId
  }

  /** The pump's signal, made on first read. */
  get signal(): AbortSignal {
    return this.#pump.signal()
  }
}

/**
 * Starts a pump that moves events from `source` into `sink`, encoding once and coalescing the
 * frames that are ready together into one chunk.
 *
 * The pump writes its opening bytes (`retry: N` when set, else a `:` comment) before returning,
 * then advances the source for as long as `sink.write()` returns `true`. It never calls the
 * source's `next()` while the sink is full; call `resume()` when the sink has room again.
 *
 * @param source - An async or sync iterable of events, or a function that returns one.
 * @param sink - Where the encoded chunks go.
 * @param options - Hooks, heartbeat, retry, signal; see {@link EventPumpOptions}.
 * @throws SseError `invalid-option` when an option cannot work; `TypeError` when `source` is not a
 *   source. Nothing has been written then.
 * @example
 * ```ts
 * import { createEventPump } from '@ssekit/core/adapter'
 *
 * // Drive a node:http response without a ReadableStream in between.
 * const pump = createEventPump(source, {
 *   write: (chunk) => response.write(chunk),
 *   close: () => response.end(),
 *   error: () => response.destroy(),
 * })
 * response.on('drain', () => pump.resume())
 * response.on('close', () => void pump.cancel())
 * ```
 * @public
 */
export function createEventPump(
  source: EventStreamSource,
  sink: EventSink,
  options: EventPumpOptions = {},
): EventPump {
  return new Pump(source, sink, options)
}

/**
 * The engine. A class with its methods on the prototype: an idle connection costs this object,
 * the source's iterator and its one pending `next()` (none for a hub subscription, read through
 * the pull fast path of `_pull-source.ts`), and nothing per event.
 */
class Pump implements EventPump, HeartbeatTarget, PullReader {
  readonly heartbeatInterval: number
  private readonly chunkBudget: number
  lastWriteAt: number
  // `state`, `kind` and the booleans below, as bits of one field (see the accessors after the
  // constructor): every field is 8 bytes per connection, and a server holds thousands.
  private bits = 0
  private readonly sink: EventSink
  private readonly options: EventPumpOptions
  private readonly startedAt: number
  private iterator: AnyIterator | undefined
  // Made when the source function first reads `signal`: an AbortSignal costs about 0.7 KB.
  private controller: AbortController | undefined
  private closeReason: CloseReason | undefined
  private onSignalAbort: (() => void) | undefined
  // The in-flight `next()` of an async source, kept across pauses so it is never lost or repeated.
  private pending: Promise<IteratorResult<SseEvent>> | undefined
  // Microtask turns since the last event arrived, while frames wait for a possible next one.
  private idleTurns = 0
  // Made once per async pump (the last one on first use) rather than once per event.
  private onResult: ((result: IteratorResult<SseEvent>) => void) | undefined
  private onFailure: ((error: unknown) => void) | undefined
  private onTurn: (() => void) | undefined
  // An async source's `next`, read once, as `for await` does. Read per event, it is a lookup keyed
  // on the iterator's hidden class, and each async generator function object has its own (its
  // `prototype` is its own): with one written inline per request, V8 kept dropping its optimised
  // pump code at a new stream's first event.
  private nextMethod: (() => unknown) | undefined
  // Frames gathered for the next chunk: `parts` in order (text, long data, encoded frames), then
  // `text`. `partsBytes` counts a string part's length: its size in bytes when it is ASCII.
  private text = ''
  private parts: (string | Uint8Array)[] | undefined
  private partsBytes = 0
  private batchEvents = 0
  private events = 0
  private bytes = 0
  private opening: Uint8Array | undefined
  private cleanup: Promise<void> | undefined
  private lifetimeTimer: ReturnType<typeof setTimeout> | undefined

  constructor(source: EventStreamSource, sink: EventSink, options: EventPumpOptions) {
    const { heartbeat = defaultHeartbeat, retry, signal } = options
    if (
      heartbeat !== false &&
      (typeof heartbeat !== 'number' || !(heartbeat > 0) || heartbeat > maxHeartbeat)
    ) {
      throw new SseError(
        'invalid-option',
        `\`heartbeat\` must be a number of milliseconds between 1 and ${maxHeartbeat}, or false to disable it; got ${String(heartbeat)}`,
      )
    }
    let opening = openingComment
    if (retry !== undefined) {
      if (typeof retry !== 'number' || !Number.isSafeInteger(retry) || retry < 0) {
        throw new SseError(
          'invalid-option',
          `\`retry\` must be a non-negative safe integer of milliseconds, got ${String(retry)}`,
        )
      }
      opening = encoder.encode(`retry: ${retry}\n\n`)
    }
    const highWaterMark = highWaterMarkOf(options)
    const lifetime = lifetimeOf(options)
    if (
      typeof source !== 'function' &&
      !isIterable(source, Symbol.asyncIterator) &&
      !isIterable(source, Symbol.iterator)
    ) {
      throw sourceTypeError(source)
    }
    if (typeof sink?.write !== 'function' || typeof sink.close !== 'function') {
      throw new TypeError('`sink` must have write(chunk), close() and error(reason) methods')
    }

    this.sink = sink
    this.options = options
    this.heartbeatInterval = heartbeat === false ? 0 : heartbeat
    this.chunkBudget = Math.min(maxChunkBudget, Math.max(minChunkBudget, highWaterMark))
    this.startedAt = clock()
    this.lastWriteAt = this.startedAt
    // A pull source's first chunk (a hub's id-only block) takes it along (see write()); any other
    // source gets it alone, before anything is pulled from it.
    this.opening = opening
    if (options.onOpen !== undefined) {
      this.callHook('onOpen', options.onOpen, { lastEventId: options.lastEventId })
    }

    if (signal !== undefined) {
      if (signal.aborted) {
        this.finish('abort', true)
        // Never taken, so finish() cannot return it: a hub subscription would stay attached.
        void releaseEventStreamSource(source)
        return
      }
      this.onSignalAbort = () => void this.finish('abort', true)
      signal.addEventListener('abort', this.onSignalAbort, { once: true })
    }

    let iterable: unknown = source
    try {
      if (typeof source === 'function') {
        iterable = source(new SourceContext(this, options.lastEventId))
      }
      if (isIterable(iterable, Symbol.asyncIterator)) {
        this.iterator = iterable[Symbol.asyncIterator]()
        if (isPullSource(this.iterator)) {
          this.kind = Kind.Pull
        } else {
          this.kind = Kind.Async
          this.nextMethod = (this.iterator as AsyncIterator<SseEvent>).next
          this.onResult = (result) => this.receive(result)
          this.onFailure = (error) => this.receiveFailure(error)
        }
      } else if (isIterable(iterable, Symbol.iterator)) {
        this.iterator = iterable[Symbol.iterator]()
      } else {
        if (isThenable(iterable)) abandonPromise(iterable)
        throw sourceTypeError(iterable, 'The source function returned')
      }
    } catch (error) {
      this.fail(error, false)
      return
    }
    if (this.kind !== Kind.Pull) this.writeOpening()
    if (this.state !== State.Open) return
    if (this.heartbeatInterval > 0) addHeartbeat(this)
    if (lifetime !== undefined) {
      this.lifetimeTimer = setTimeout(() => void this.finish('lifetime', true), lifetime)
      // Like heartbeats, a lifetime alone must not keep a process alive.
      ;(this.lifetimeTimer as { unref?: () => void }).unref?.()
    }
    // What a pull source has ready at once (a hub's id-only block) goes out with the opening, in
    // this call. Marked hot meanwhile, so that it joins no shared flush (a chain of microtask turns
    // per new stream), and not hot after: no publish has written here yet, the next one goes out
    // at once.
    this.hot = true
    this.advance()
    this.hot = false
    this.writeOpening()
  }

  get closed(): boolean {
    return this.state !== State.Open
  }

  /** {@link State}: bit 0 of `bits`. */
  private get state(): number {
    return this.bits & 1
  }
  private set state(value: number) {
    this.bits = (this.bits & ~1) | value
  }
  /** {@link Kind}: bits 1 and 2. */
  private get kind(): number {
    return (this.bits >> 1) & 3
  }
  private set kind(value: number) {
    this.bits = (this.bits & ~6) | (value << 1)
  }
  /** The sink said it is full; nothing is written until resume(). */
  get full(): boolean {
    return (this.bits & fullBit) !== 0
  }
  set full(value: boolean) {
    this.bits = value ? this.bits | fullBit : this.bits & ~fullBit
  }
  /** Written to the sink moments ago (see hotPumps); later frames wait for the shared flush. */
  private get hot(): boolean {
    return (this.bits & hotBit) !== 0
  }
  private set hot(value: boolean) {
    this.bits = value ? this.bits | hotBit : this.bits & ~hotBit
  }
  /** Woken while pulling: pull again before waiting. */
  private get woken(): boolean {
    return (this.bits & wokenBit) !== 0
  }
  private set woken(value: boolean) {
    this.bits = value ? this.bits | wokenBit : this.bits & ~wokenBit
  }
  /** A sync or pull source is being advanced (a sink may call resume() from inside write()). */
  private get running(): boolean {
    return (this.bits & runningBit) !== 0
  }
  private set running(value: boolean) {
    this.bits = value ? this.bits | runningBit : this.bits & ~runningBit
  }
  /** An async pump's turn() is queued. */
  private get ticking(): boolean {
    return (this.bits & tickingBit) !== 0
  }
  private set ticking(value: boolean) {
    this.bits = value ? this.bits | tickingBit : this.bits & ~tickingBit
  }

  resume(): void {
    if (this.state !== State.Open) return
    if (this.full) {
      this.full = false
      if (this.heartbeatInterval > 0)
        scheduleHeartbeat(this, this.lastWriteAt + this.heartbeatInterval)
    }
    this.advance()
  }

  cancel(reason: CloseReason = 'cancel'): Promise<void> {
    return this.finish(reason, false)
  }

  close(finalEvent?: SseEvent): Promise<void> {
    if (this.state !== State.Open) return this.cleanup ?? Promise.resolve()
    let frame: string | undefined
    try {
      if (finalEvent !== undefined) frame = formatEvent(finalEvent)
    } catch (error) {
      return Promise.reject(error)
    }
    return this.finish('shutdown', true, frame)
  }

  heartbeat(): void {
    if (this.state === State.Open && !this.full) this.write(heartbeatComment)
  }

  /** The source function's `signal`, made on first read; already aborted once the stream ended. */
  signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController()
      if (this.state !== State.Open) this.controller.abort(abortReason(this.closeReason))
    }
    return this.controller.signal
  }

  /** A pull source has something ready (see PullReader); called inside a publish. */
  wake(): void {
    if (this.state !== State.Open || this.full) return
    if (this.running) {
      this.woken = true
      return
    }
    this.advancePull(!this.hot)
  }

  /** The shared flush of hot pumps: write what gathered since the first chunk. */
  cool(): void {
    this.hot = false
    if (this.state === State.Open) this.flush()
  }

  /** Advances the source while the sink has room; never twice at once. */
  private advance(): void {
    if (this.state !== State.Open || this.full || this.iterator === undefined) return
    if (this.kind === Kind.Sync) {
      if (!this.running) this.advanceSync()
    } else if (this.kind === Kind.Pull) {
      if (!this.running) this.advancePull(true)
    } else if (this.pending === undefined) {
      this.request()
    }
  }

  /**
   * Takes every ready event of a pull source; with `flushNow` writes them at once and turns hot,
   * else leaves them for the shared flush (a chunk that reaches the budget is written anyway).
   */
  private advancePull(flushNow: boolean): void {
    this.running = true
    let fromPull = true
    try {
      const source = this.iterator as unknown as PullSource
      do {
        this.woken = false
        while (this.state === State.Open && !this.full) {
          fromPull = true
          const event = source[pullKey](this)
          fromPull = false
          if (event === undefined) break
          if (event === null) {
            void this.finish('end', true)
            return
          }
          this.append(event)
          if (this.text.length + this.partsBytes >= this.chunkBudget) this.flush()
        }
      } while (this.woken && this.state === State.Open && !this.full)
      if (this.state !== State.Open || this.batchEvents === 0) return
      if (flushNow || this.full) {
        this.flush()
        if (this.hot) return
        this.hot = true
        hotPumps.push(this)
      }
      hotIdleTurns = 0
      if (!hotTicking) {
        hotTicking = true
        resolved.then(hotTurn)
      }
    } catch (error) {
      if (this.state === State.Open) this.fail(error, !fromPull)
    } finally {
      this.running = false
    }
  }

  private advanceSync(): void {
    this.running = true
    // Whether a failure came from the source's next() (then the iterator is finished) or from an
    // event it yielded (then its return() must still run).
    let fromNext = true
    try {
      const iterator = this.iterator as Iterator<SseEvent>
      while (this.state === State.Open && !this.full) {
        fromNext = true
        const result = iterator.next()
        fromNext = false
        if (result.done) {
          void this.finish('end', true)
          return
        }
        this.append(result.value)
        if (this.text.length + this.partsBytes >= this.chunkBudget) this.flush()
      }
      if (this.state === State.Open) this.flush()
    } catch (error) {
      if (this.state === State.Open) this.fail(error, !fromNext)
    } finally {
      this.running = false
    }
  }

  /**
   * Calls an async source's `next()`. No async function: the result arrives in a callback, so an
   * idle stream holds no suspended frame, and a burst of ready events costs one reaction each.
   */
  private request(): void {
    let next: unknown
    try {
      next = (this.nextMethod as () => unknown).call(this.iterator)
    } catch (error) {
      this.fail(error, false)
      return
    }
    // A native promise is used as it is; a foreign thenable or a plain result is adopted.
    const promise = (next instanceof Promise ? next : Promise.resolve(next)) as Promise<
      IteratorResult<SseEvent>
    >
    this.pending = promise
    promise.then(this.onResult, this.onFailure)
    if (this.batchEvents > 0 && !this.ticking) {
      this.ticking = true
      this.onTurn ??= () => this.turn()
      resolved.then(this.onTurn)
    }
  }

  private receive(result: IteratorResult<SseEvent>): void {
    if (this.state !== State.Open) return
    this.pending = undefined
    this.idleTurns = 0
    let fromNext = true
    try {
      if (result.done) {
        void this.finish('end', true)
        return
      }
      fromNext = false
      this.append(result.value)
    } catch (error) {
      // `result` was not an iterator result (fromNext), or its event cannot be encoded.
      this.fail(error, !fromNext)
      return
    }
    // When the sink filled up meanwhile, this frame waits with the batch for resume().
    if (this.text.length + this.partsBytes >= this.chunkBudget) this.flush()
    this.advance()
  }

  private receiveFailure(error: unknown): void {
    if (this.state !== State.Open) return
    this.pending = undefined
    this.fail(error, false)
  }

  /**
   * Runs once per microtask turn while frames wait: a source whose next event is ready settles
   * within a few turns and joins the chunk; one that takes longer (it waits for I/O or a timer)
   * does not hold back the frames already gathered.
   */
  private turn(): void {
    if (this.state !== State.Open || this.batchEvents === 0) {
      this.ticking = false
      return
    }
    if (++this.idleTurns >= probeTurns) {
      this.ticking = false
      this.flush()
      return
    }
    resolved.then(this.onTurn)
  }

  private append(event: SseEvent): void {
    if (typeof event === 'object' && event !== null) {
      const frame = encodedFrameOf(event)
      if (frame !== undefined) {
        this.appendPart(frame)
        this.batchEvents++
        return
      }
      const { data } = event
      if (typeof data === 'string' && data.length >= longData && isOneLine(data)) {
        // Joined to the text, long data would be copied once more on its way to the chunk.
        this.text += `${formatFields(event)}data: `
        this.appendPart(data)
        this.text = '\n\n'
        this.batchEvents++
        return
      }
    }
    this.text += formatEvent(event)
    this.batchEvents++
  }

  /** Ends the text gathered so far and adds `part` after it, to be encoded apart (see flush). */
  private appendPart(part: string | Uint8Array): void {
    const size = typeof part === 'string' ? part.length : part.byteLength
    if (this.parts === undefined && this.text === '') {
      // A lone part (a hub's live event) gets an array of its exact size, not one grown by push.
      this.parts = [part]
      this.partsBytes += size
      return
    }
    if (this.parts === undefined) this.parts = []
    const parts = this.parts
    if (this.text !== '') {
      parts.push(this.text)
      this.partsBytes += this.text.length
      this.text = ''
    }
    parts.push(part)
    this.partsBytes += size
  }

  /** Writes the gathered frames as one chunk. */
  private flush(): void {
    if (this.batchEvents === 0) return
    let chunk: Uint8Array
    const parts = this.parts
    if (parts === undefined) {
      chunk = encodeText(this.text)
    } else {
      let length = this.partsBytes
      if (this.text !== '') {
        parts.push(this.text)
        length += this.text.length
      }
      const only = parts.length === 1 ? parts[0] : undefined
      chunk =
        only === undefined || typeof only === 'string'
          ? encodeParts(parts, length)
          : this.sink.sharesChunks === true
            ? only
            : only.slice()
      this.parts = undefined
      this.partsBytes = 0
    }
    this.text = ''
    this.events += this.batchEvents
    this.batchEvents = 0
    this.write(chunk)
  }

  /** Writes the opening bytes, if no chunk took them along. */
  private writeOpening(): void {
    const opening = this.opening
    if (opening === undefined) return
    this.opening = undefined
    this.write(opening)
  }

  private write(chunk: Uint8Array): void {
    const opening = this.opening
    if (opening !== undefined) {
      // The first chunk takes the opening bytes along: a new stream costs its consumer one write
      // (in node, a few hundred bytes of garbage each), not two.
      this.opening = undefined
      chunk = withOpening(opening, chunk, this.sink.sharesChunks === true)
    }
    this.bytes += chunk.byteLength
    this.lastWriteAt = clock()
    let room: boolean
    try {
      room = this.sink.write(chunk)
    } catch (error) {
      // The consumer broke (its stream was torn down under us): treat it as gone.
      void this.finish('cancel', false, undefined, error)
      return
    }
    if (!room) this.full = true
  }

  /** The source threw (or yielded an event that cannot be encoded). */
  private fail(error: unknown, iteratorLive: boolean): void {
    const { onError } = this.options
    let frame: string | undefined
    if (onError === undefined) {
      // Never to the client; but an error nobody hears about is a bug nobody can fix.
      console.error('ssekit: the event source failed and no onError hook is set:', error)
    } else {
      try {
        const finalEvent = onError(error)
        if (finalEvent !== undefined) frame = formatEvent(finalEvent)
      } catch (hookError) {
        console.error('ssekit: the onError hook threw:', hookError)
        void this.finish('error', false, undefined, error, iteratorLive)
        try {
          this.sink.error(new SseError('source-error', 'The event source failed'))
        } catch {
          // The consumer is already gone; there is no one left to tell.
        }
        return
      }
    }
    void this.finish('error', true, frame, error, iteratorLive)
  }

  /**
   * Ends the stream once: flushes (unless the consumer is gone), writes the final frame, closes
   * the sink, stops the heartbeat, aborts the source's signal, runs its `return()`, calls onClose.
   */
  private finish(
    reason: CloseReason,
    closeSink: boolean,
    finalFrame?: string,
    error?: unknown,
    iteratorLive = reason !== 'end' && reason !== 'error',
  ): Promise<void> {
    if (this.state !== State.Open) return this.cleanup ?? Promise.resolve()
    if (closeSink) {
      if (finalFrame !== undefined) {
        this.text += finalFrame
        this.batchEvents++
      }
      this.flush()
      this.writeOpening()
      // The sink may have thrown during that write and ended the stream already.
      if (this.state !== State.Open) return this.cleanup ?? Promise.resolve()
    }
    this.state = State.Closed
    this.closeReason = reason
    if (this.heartbeatInterval > 0) removeHeartbeat(this)
    if (this.lifetimeTimer !== undefined) clearTimeout(this.lifetimeTimer)
    if (this.onSignalAbort !== undefined) {
      this.options.signal?.removeEventListener('abort', this.onSignalAbort)
      this.onSignalAbort = undefined
    }
    if (closeSink) {
      try {
        this.sink.close()
      } catch {
        // A consumer that was cancelled meanwhile cannot be closed again.
      }
    }
    this.text = ''
    this.parts = undefined
    this.partsBytes = 0
    this.controller?.abort(abortReason(reason))
    const iterator = this.iterator
    this.iterator = undefined
    this.pending = undefined
    this.cleanup =
      iteratorLive && iterator?.return !== undefined ? returnIterator(iterator) : Promise.resolve()
    const summary: EventStreamSummary = {
      reason,
      events: this.events,
      bytes: this.bytes,
      durationMs: clock() - this.startedAt,
    }
    if (error !== undefined || reason === 'error') summary.error = error
    if (typeof this.sink.onEnd === 'function') {
      try {
        this.sink.onEnd(summary)
      } catch (sinkError) {
        console.error('ssekit: the sink onEnd() hook threw:', sinkError)
      }
    }
    this.callHook('onClose', this.options.onClose, summary)
    return this.cleanup
  }

  private callHook<T>(name: string, hook: ((value: T) => void) | undefined, value: T): void {
    if (hook === undefined) return
    try {
      hook(value)
    } catch (error) {
      // A logging hook that throws must not take the stream (or the server) down with it.
      console.error(`ssekit: the ${name} hook threw:`, error)
    }
  }
}

/** The validated `highWaterMark` option, or its default. @internal */
export function highWaterMarkOf(options: EventPumpOptions): number {
  const { highWaterMark = defaultHighWaterMark } = options
  if (typeof highWaterMark !== 'number' || !(highWaterMark >= 0)) {
    throw new SseError(
      'invalid-option',
      `\`highWaterMark\` must be a non-negative number of bytes, got ${String(highWaterMark)}`,
    )
  }
  return highWaterMark
}

/** This stream's lifetime in ms (jitter drawn), or undefined when `maxLifetime` is not set. */
function lifetimeOf(options: EventPumpOptions): number | undefined {
  const { maxLifetime, lifetimeJitter } = options
  if (maxLifetime === undefined) {
    if (lifetimeJitter !== undefined) {
      throw new SseError('invalid-option', '`lifetimeJitter` needs `maxLifetime` to be set')
    }
    return undefined
  }
  const jitter = lifetimeJitter ?? Math.floor(maxLifetime / 10)
  if (!Number.isSafeInteger(maxLifetime) || maxLifetime < 1 || maxLifetime > maxHeartbeat) {
    throw new SseError(
      'invalid-option',
      `\`maxLifetime\` must be a whole number of milliseconds between 1 and ${maxHeartbeat}, got ${String(maxLifetime)}`,
    )
  }
  if (!Number.isSafeInteger(jitter) || jitter < 0 || maxLifetime + jitter > maxHeartbeat) {
    throw new SseError(
      'invalid-option',
      `\`lifetimeJitter\` must be a whole number of milliseconds from 0, got ${String(lifetimeJitter)}`,
    )
  }
  return maxLifetime + Math.floor(Math.random() * jitter)
}

function abortReason(reason: CloseReason | undefined): SseError {
  return new SseError('aborted', `The event stream ended (${reason})`)
}

/**
 * Lets go of a source that will never be read (the answer to a HEAD request), as a client that
 * leaves does: a `ReadableStream` is cancelled, an iterable's iterator (a hub subscription, a
 * started generator) gets its `return()`. A source function was never called: nothing of it needs
 * releasing. Never rejects.
 *
 * @param source - what would have been streamed.
 * @example
 * ```ts
 * import { releaseEventStreamSource } from '@ssekit/core/adapter'
 *
 * if (request.method === 'HEAD') {
 *   response.writeHead(200, eventStreamHeaders).end()
 *   await releaseEventStreamSource(source)
 * }
 * ```
 * @public
 */
export async function releaseEventStreamSource(
  source: EventStreamSource | ReadableStream<Uint8Array>,
): Promise<void> {
  try {
    if (typeof (source as Partial<ReadableStream>).getReader === 'function') {
      await (source as ReadableStream<Uint8Array>).cancel()
    } else if (isIterable(source, Symbol.asyncIterator)) {
      await returnIterator(source[Symbol.asyncIterator]())
    } else if (isIterable(source, Symbol.iterator)) {
      await returnIterator(source[Symbol.iterator]())
    }
  } catch {
    // A stream locked by another reader: it is someone else's to release.
  }
}

async function returnIterator(iterator: AnyIterator): Promise<void> {
  try {
    await iterator.return?.()
  } catch {
    // The source failed while cleaning up; the stream is over either way.
  }
}

function isIterable<K extends typeof Symbol.iterator | typeof Symbol.asyncIterator>(
  value: unknown,
  key: K,
): value is K extends typeof Symbol.iterator ? Iterable<SseEvent> : AsyncIterable<SseEvent> {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as Record<symbol, unknown>)[key] === 'function'
  )
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

/**
 * What an async function used as the source returned. The stream has already failed with a
 * TypeError saying so, so its rejection (a "not authorised" thrown after an await, say) is
 * swallowed rather than left unhandled to crash the process, and an iterator it resolves to (a
 * hub subscription) gets its `return()`, since nothing else will ever read or release it.
 */
function abandonPromise(promise: PromiseLike<unknown>): void {
  Promise.resolve(promise)
    .then((value) => releaseEventStreamSource(value as EventStreamSource))
    .catch(() => {
      // Reported already, as the TypeError the stream ended with.
    })
}

function sourceTypeError(value: unknown, prefix = 'The source is'): TypeError {
  const what =
    value === null
      ? 'null'
      : isThenable(value)
        ? 'a Promise (use an async generator function, `async function* () {}`, instead of an async function)'
        : typeof value
  return new TypeError(
    `${prefix} ${what}; a source must be an async iterable, an iterable, or a function ({ signal, lastEventId }) => iterable`,
  )
}
