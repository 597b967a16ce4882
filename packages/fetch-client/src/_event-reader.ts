import { createParser } from './parse.ts'
import type { ParserOptions, ServerSentEvent } from './types.ts'

/** @internal What {@link createEventReader} returns. */
export interface EventReader {
  /**
   * The next event; reads the body only when no parsed event is waiting. A limit error rejects
   * once, after the events dispatched before it.
   */
  next(): Promise<IteratorResult<ServerSentEvent, undefined>>
  /** The next already-parsed event, or `undefined` when reading is needed. */
  poll(): ServerSentEvent | undefined
  /** Hands over every event already parsed and not yet taken (at most one chunk's worth). */
  takeQueued(): ServerSentEvent[]
  /** Cancels the body and drops what is queued, a pending limit error included. */
  cancel(reason?: unknown): Promise<void>
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined }

/**
 * @internal One read loop feeding the synchronous parser: the body is read only when the consumer
 * asks for an event and none is queued, so the queue never holds more than one chunk's events.
 */
export function createEventReader(
  body: ReadableStream<Uint8Array>,
  options: Omit<ParserOptions, 'onEvent' | 'onError'>,
): EventReader {
  let queue: ServerSentEvent[] = []
  let head = 0
  let failure: unknown
  let finished = false
  const parser = createParser({
    ...options,
    onEvent: (event) => void queue.push(event),
    onError: (error) => {
      failure = error
    },
  })
  const reader = body.getReader()
  // Calls to next() made while one still waits for a read are answered after it, in call order:
  // `calls` counts those not answered yet, and `last` settles with the latest of them.
  let calls = 0
  let last: Promise<IteratorResult<ServerSentEvent, undefined>> | undefined
  const take = ():
    | Promise<IteratorResult<ServerSentEvent, undefined>>
    | IteratorResult<ServerSentEvent, undefined> => {
    if (head === queue.length) return fill()
    calls--
    return { done: false, value: queue[head++] as ServerSentEvent }
  }

  async function fill(): Promise<IteratorResult<ServerSentEvent, undefined>> {
    try {
      while (head === queue.length) {
        if (finished) {
          if (failure === undefined) return DONE
          const error = failure
          failure = undefined
          throw error
        }
        queue = []
        head = 0
        const { done, value } = await reader.read()
        if (done) {
          finished = true
          return DONE
        }
        parser.feed(value)
        if (failure !== undefined) {
          finished = true
          // The parser checks limits once it has dispatched the chunk's complete events: those
          // are delivered first and the error after them, so what arrives does not depend on
          // chunking.
          await reader.cancel(failure).catch(() => {})
        }
      }
      return { done: false, value: queue[head++] as ServerSentEvent }
    } finally {
      calls--
    }
  }

  return {
    next() {
      if (calls === 0 && head < queue.length) {
        return Promise.resolve({ done: false, value: queue[head++] as ServerSentEvent })
      }
      last = ++calls === 1 ? fill() : (last as Promise<never>).then(take, take)
      return last
    },
    poll() {
      return calls === 0 && head < queue.length ? queue[head++] : undefined
    },
    takeQueued() {
      const rest = queue.slice(head)
      queue = []
      head = 0
      return rest
    },
    async cancel(reason) {
      finished = true
      failure = undefined
      queue = []
      head = 0
      await reader.cancel(reason)
    },
  }
}
