import { createParser, type EventStreamParser } from '@ssekit/fetch-client'
import type { ExpectedEvent } from './_vectors.ts'

export { withTimeout } from '@ssekit/test-support'

export interface ParseResult {
  events: ExpectedEvent[]
  retries: number[]
  ids: string[]
  comments: string[]
}

/** Feeds every connection's chunks into one parser (reset between connections) and records everything. */
export function parseChunks(
  connections: Uint8Array[][],
  options: { maxLineBytes?: number; maxEventBytes?: number } = {},
): ParseResult & { parser: EventStreamParser } {
  const result: ParseResult = { events: [], retries: [], ids: [], comments: [] }
  const parser = createParser({
    onEvent: (event) => result.events.push({ ...event }),
    onRetry: (milliseconds) => result.retries.push(milliseconds),
    onId: (id) => result.ids.push(id),
    onComment: (comment) => result.comments.push(comment),
    ...options,
  })
  connections.forEach((chunks, index) => {
    if (index > 0) parser.reset()
    for (const chunk of chunks) parser.feed(chunk)
  })
  return { ...result, parser }
}

/** Every way the tests cut a body: whole, byte by byte, and in two at every position. */
export function chunkings(body: Uint8Array): { name: string; chunks: Uint8Array[] }[] {
  const out = [
    { name: 'whole', chunks: [body] },
    { name: 'byte by byte', chunks: Array.from(body, (byte) => Uint8Array.of(byte)) },
  ]
  for (let split = 1; split < body.length; split++) {
    out.push({ name: `split at ${split}`, chunks: [body.subarray(0, split), body.subarray(split)] })
  }
  return out
}

/** Cuts `body` at the given (sorted, deduplicated here) positions. */
export function cutAt(body: Uint8Array, positions: number[]): Uint8Array[] {
  const cuts = [...new Set(positions)].filter((p) => p > 0 && p < body.length).sort((a, b) => a - b)
  const out: Uint8Array[] = []
  let start = 0
  for (const cut of cuts) {
    out.push(body.subarray(start, cut))
    start = cut
  }
  out.push(body.subarray(start))
  return out
}

/** A byte stream of `chunks` that records how often it was pulled and why it was cancelled. */
export function recordingStream(chunks: Uint8Array[], options: { endless?: boolean } = {}) {
  const record = { pulls: 0, cancelled: false, reason: undefined as unknown }
  let index = 0
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        record.pulls++
        const chunk = chunks[index++]
        if (chunk) controller.enqueue(chunk)
        else if (options.endless) controller.enqueue(new TextEncoder().encode(': more\n'))
        else controller.close()
      },
      cancel(reason) {
        record.cancelled = true
        record.reason = reason
      },
    },
    { highWaterMark: 0 },
  )
  return { stream, record }
}

/** Waits (bounded) until `condition()` holds, checking every few milliseconds. */
export async function eventually(
  condition: () => boolean,
  milliseconds: number,
  label: string,
): Promise<void> {
  const deadline = Date.now() + milliseconds
  while (!condition()) {
    if (Date.now() > deadline)
      throw new Error(`Timed out after ${milliseconds} ms waiting for: ${label}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
