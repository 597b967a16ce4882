import { createParser, type EventSourceMessage } from 'eventsource-parser'

/** Rejects with a labelled error when `promise` has not settled within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${label}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** What a spec-exact parser (the oracle) makes of a byte stream. */
export interface Parsed {
  events: EventSourceMessage[]
  comments: string[]
  retries: number[]
}

export function parseText(text: string): Parsed {
  const parsed: Parsed = { events: [], comments: [], retries: [] }
  const parser = createParser({
    onEvent: (event) => parsed.events.push(event),
    onComment: (comment) => parsed.comments.push(comment),
    onRetry: (retry) => parsed.retries.push(retry),
    onError: (error) => {
      throw error
    },
  })
  parser.feed(text)
  return parsed
}

const decoder = new TextDecoder()

export function decode(bytes: Uint8Array): string {
  return decoder.decode(bytes)
}

/** Reads a whole stream, returning its chunks. */
export async function readChunks(stream: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = []
  const reader = stream.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return chunks
    chunks.push(value)
  }
}

export async function readText(stream: ReadableStream<Uint8Array>): Promise<string> {
  const chunks = await withTimeout(readChunks(stream), 5_000, 'reading the whole stream')
  let text = ''
  const streaming = new TextDecoder()
  for (const chunk of chunks) text += streaming.decode(chunk, { stream: true })
  return text + streaming.decode()
}

/** Resolves after `turns` macrotasks, letting every pending microtask and I/O callback run. */
export async function settle(turns = 3): Promise<void> {
  for (let turn = 0; turn < turns; turn++) await new Promise((resolve) => setTimeout(resolve, 0))
}

/** A sink that records what a pump does; `room` decides what `write` answers. */
export class RecordingSink {
  chunks: Uint8Array[] = []
  closed = 0
  errors: unknown[] = []
  room = true

  write(chunk: Uint8Array): boolean {
    if (this.closed > 0) throw new Error('write after close')
    this.chunks.push(chunk)
    return this.room
  }

  close(): void {
    this.closed++
  }

  error(reason: unknown): void {
    this.errors.push(reason)
  }

  get text(): string {
    return this.chunks.map(decode).join('')
  }
}

/**
 * An async iterator the test feeds by hand. It records every call and fails the test if `next()`
 * is called while an earlier `next()` is still pending (the pump must never do that).
 */
export class PushSource implements AsyncIterableIterator<{ data: string; id?: string }> {
  nextCalls = 0
  returnCalls = 0
  overlapping = 0
  private queue: Array<{ data: string; id?: string }> = []
  private waiting: ((result: IteratorResult<{ data: string; id?: string }>) => void) | undefined
  private ended = false

  push(data: string, id?: string): void {
    const event = id === undefined ? { data } : { data, id }
    const waiting = this.waiting
    if (waiting !== undefined) {
      this.waiting = undefined
      waiting({ done: false, value: event })
    } else {
      this.queue.push(event)
    }
  }

  end(): void {
    this.ended = true
    const waiting = this.waiting
    this.waiting = undefined
    waiting?.({ done: true, value: undefined })
  }

  next(): Promise<IteratorResult<{ data: string; id?: string }>> {
    this.nextCalls++
    if (this.waiting !== undefined) this.overlapping++
    const event = this.queue.shift()
    if (event !== undefined) return Promise.resolve({ done: false, value: event })
    if (this.ended) return Promise.resolve({ done: true, value: undefined })
    return new Promise((resolve) => {
      this.waiting = resolve
    })
  }

  return(): Promise<IteratorResult<{ data: string; id?: string }>> {
    this.returnCalls++
    this.end()
    return Promise.resolve({ done: true, value: undefined })
  }

  [Symbol.asyncIterator](): this {
    return this
  }
}

/**
 * An endless async generator already past its first event, as a hub subscription is: only its
 * `return()` releases it. `finished()` says whether its `finally` ran.
 */
export async function startedGenerator(): Promise<{
  source: AsyncGenerator<{ data: string }>
  finished: () => boolean
}> {
  let finished = false
  async function* ticks() {
    try {
      for (let tick = 0; ; tick++) yield { data: String(tick) }
    } finally {
      finished = true
    }
  }
  const source = ticks()
  await source.next()
  return { source, finished: () => finished }
}
