import { encodeEvent, type SseEvent } from '@ssekit/core'
import { openEventStreams } from './_registry.ts'

/**
 * Options of {@link closeEventStreams}.
 *
 * @example
 * ```ts
 * await closeEventStreams({ graceMs: 10_000, retry: 500, retryJitter: 9_500, finalEvent: { event: 'bye' } })
 * ```
 * @public
 */
export interface CloseEventStreamsOptions {
  /**
   * Milliseconds to let the streams end cleanly (the final event flushed, the response ended);
   * connections still open after that are destroyed.
   * @defaultValue 5000
   */
  graceMs?: number | undefined
  /**
   * The smallest reconnection delay (`retry:`, ms) sent to each client.
   * @defaultValue 1000
   */
  retry?: number | undefined
  /**
   * Each stream's `retry:` is `retry` plus a random whole number of ms below `retryJitter`, so
   * that the clients of a restarting server come back spread over that window, not all at once.
   * @defaultValue 4000
   */
  retryJitter?: number | undefined
  /**
   * An event to send as the last one (`{ event: 'shutdown' }`, say); its `retry` is replaced by
   * the jittered one.
   */
  finalEvent?: SseEvent | undefined
}

/**
 * What {@link closeEventStreams} did.
 *
 * @example
 * ```ts
 * const { closed, destroyed } = await closeEventStreams()
 * metrics.gauge('sse.shutdown.destroyed', destroyed)
 * ```
 * @public
 */
export interface CloseEventStreamsResult {
  /**
   * Streams whose response ended cleanly within the grace period (or whose client left), even if
   * their source's cleanup (`return()`, `finally`) has not finished by then.
   */
  closed: number
  /** Streams whose connection was destroyed at the end of the grace period. */
  destroyed: number
}

/**
 * Ends every stream this process serves through `sendEventStream`, for a graceful shutdown: each
 * client gets a `retry:` hint with its own jitter (and `finalEvent` if given), then a clean end;
 * whatever is still open after `graceMs` (a client that stopped reading) is destroyed. It resolves
 * once every stream has ended and its source's cleanup has run, or at `graceMs`, whichever comes
 * first. Stop accepting connections first (`server.close()`), or new streams may open meanwhile.
 *
 * @returns how many streams ended cleanly and how many were destroyed.
 * @throws TypeError when an option is not a non-negative whole number; `SseError`
 *   (`invalid-field`) when `finalEvent` cannot be encoded. Nothing was closed then.
 *
 * @example
 * ```ts
 * import { closeEventStreams } from '@ssekit/node'
 *
 * process.once('SIGTERM', async () => {
 *   server.close()
 *   const { closed, destroyed } = await closeEventStreams({ graceMs: 5_000, retry: 1_000 })
 *   console.log(`closed ${closed} streams, destroyed ${destroyed}`)
 * })
 * ```
 * @public
 */
export async function closeEventStreams(
  options: CloseEventStreamsOptions = {},
): Promise<CloseEventStreamsResult> {
  const graceMs = nonNegative('graceMs', options.graceMs, 5_000)
  const retry = nonNegative('retry', options.retry, 1_000)
  const retryJitter = nonNegative('retryJitter', options.retryJitter, 4_000)
  // A final event that cannot be encoded fails here, before any stream is touched.
  if (options.finalEvent !== undefined) encodeEvent({ ...options.finalEvent, retry })
  const streams = [...openEventStreams]
  const pending = new Set(streams)
  const settledAll = Promise.all(
    streams.map((stream) => stream.settled.then(() => pending.delete(stream))),
  )
  for (const stream of streams) {
    stream.shutdown({
      ...options.finalEvent,
      retry: retry + Math.floor(Math.random() * retryJitter),
    })
  }
  let graceTimer: ReturnType<typeof setTimeout> | undefined
  await Promise.race([
    settledAll,
    new Promise((resolve) => {
      graceTimer = setTimeout(resolve, graceMs)
    }),
  ])
  clearTimeout(graceTimer)
  // A stream still pending may only be waiting for its source's cleanup (a generator parked in an
  // await that ignores its signal): its response ended cleanly, and there is nothing to destroy.
  let destroyed = 0
  for (const stream of pending) {
    if (stream.responseDone) continue
    destroyed++
    stream.destroy()
  }
  return { closed: streams.length - destroyed, destroyed }
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!(Number.isSafeInteger(value) && value >= 0)) {
    throw new TypeError(
      `closeEventStreams: \`${name}\` must be a non-negative whole number of milliseconds; got ${String(value)}`,
    )
  }
  return value
}
