import type { CloseReason, SseEvent } from '@ssekit/core'

/** One stream served by `sendEventStream` that has not settled yet. @internal */
export interface OpenEventStream {
  /** Writes `finalEvent` and ends the response; the client may still be reading it. */
  shutdown(finalEvent: SseEvent): void
  /** Tears the connection down at once (the grace period is over). */
  destroy(): void
  /** Settles with the close reason once the source's cleanup has run and the response is done. */
  readonly settled: Promise<CloseReason>
  /**
   * The response is over (ended, or its client left), whether or not the source's cleanup has
   * run: there is no connection of this stream's left to destroy.
   */
  readonly responseDone: boolean
}

const registryKey = Symbol.for('ssekit.node.open-streams')

// Kept on globalThis so that two copies of @ssekit/node in one process (a duplicated install)
// still share one registry, and closeEventStreams() on shutdown sees every stream.
const holder = globalThis as { [registryKey]?: Set<OpenEventStream> }

/** Every stream of this process that is still open. @internal */
export const openEventStreams: Set<OpenEventStream> = holder[registryKey] ?? new Set()
holder[registryKey] = openEventStreams
