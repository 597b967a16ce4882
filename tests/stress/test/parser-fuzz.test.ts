import { encodeEvent, SseError } from '@ssekit/core'
import { createParser } from '@ssekit/fetch-client'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { report, seed, size } from '../src/_params.ts'
import { decodeStream, specParse } from '../src/_spec-parser.ts'

const encoder = new TextEncoder()

interface Observed {
  events: { type: string; data: string; lastEventId: string }[]
  ids: string[]
  retries: number[]
  comments: string[]
  error: SseError | undefined
  /** After each chunk that did not fail: bytes since the last line end, and since the event's first data line. */
  tails: { line: number; event: number }[]
}

function run(
  chunks: Uint8Array[],
  limits: { maxLineBytes: number; maxEventBytes: number },
): Observed {
  const observed: Observed = {
    events: [],
    ids: [],
    retries: [],
    comments: [],
    error: undefined,
    tails: [],
  }
  const parser = createParser({
    ...limits,
    onEvent: ({ type, data, lastEventId }) => observed.events.push({ type, data, lastEventId }),
    onId: (id) => observed.ids.push(id),
    onRetry: (retry) => observed.retries.push(retry),
    onComment: (comment) => observed.comments.push(comment),
  })
  const fed: number[] = []
  for (const chunk of chunks) {
    try {
      parser.feed(chunk)
    } catch (error) {
      // The only throw a parser may make: its typed limit errors.
      expect(SseError.isInstance(error)).toBe(true)
      expect(['line-too-long', 'event-too-large']).toContain((error as SseError).code)
      observed.error = error as SseError
      return observed
    }
    for (const byte of chunk) fed.push(byte)
    observed.tails.push(tailsOf(fed))
  }
  return observed
}

/**
 * What an unterminated remainder holds, measured on the raw bytes: CR and LF bytes never occur
 * inside a UTF-8 sequence, so they split lines whatever the decoding.
 */
function tailsOf(bytes: number[]): { line: number; event: number } {
  let lineStart = 0
  let dataStart = -1
  for (let index = 0; index < bytes.length; index++) {
    const byte = bytes[index]
    if (byte !== 10 && byte !== 13) continue
    const isBlank = index === lineStart
    // A `data` field: the line is `data` alone or starts with `data:`.
    const isData =
      bytes[lineStart] === 100 &&
      bytes[lineStart + 1] === 97 &&
      bytes[lineStart + 2] === 116 &&
      bytes[lineStart + 3] === 97 &&
      (index === lineStart + 4 || bytes[lineStart + 4] === 58)
    if (isBlank) dataStart = -1
    else if (isData && dataStart === -1) dataStart = lineStart
    if (byte === 13 && bytes[index + 1] === 10) index++
    lineStart = index + 1
  }
  return { line: bytes.length - lineStart, event: dataStart === -1 ? 0 : bytes.length - dataStart }
}

/** Splits `bytes` at the given (sorted, deduplicated) offsets. */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const offsets = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b)
  const chunks: Uint8Array[] = []
  let start = 0
  for (const offset of [...offsets, bytes.length]) {
    chunks.push(bytes.subarray(start, offset))
    start = offset
  }
  return chunks
}

// Bytes that matter to a parser, over-represented: line ends, colon, space, BOM, NUL, invalid and
// partial UTF-8, and the starts of field names.
const interestingByte = fc.constantFrom(
  10,
  13,
  58,
  32,
  0xef,
  0xbb,
  0xbf,
  0,
  0xff,
  0xc3,
  0xa9,
  0xf0,
  0x9f,
  100,
  97,
  116,
  101,
  105,
  114,
)
const randomBytes = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc
    .array(fc.oneof(interestingByte, fc.integer({ min: 0, max: 255 })), { maxLength: 300 })
    .map((bytes) => Uint8Array.from(bytes)),
)
const wellFormedStream = fc
  .array(
    fc.record(
      {
        data: fc.string({ unit: 'grapheme', maxLength: 40 }),
        event: fc.constantFrom(undefined, 'update', 'é'),
        id: fc.constantFrom(undefined, '1', '', 'x y'),
      },
      { requiredKeys: ['data'] },
    ),
    { maxLength: 6 },
  )
  .map((events) => {
    const parts = events.map((event) => encodeEvent(event))
    const bytes = new Uint8Array(parts.reduce((total, part) => total + part.length, 0))
    let offset = 0
    for (const part of parts) {
      bytes.set(part, offset)
      offset += part.length
    }
    return bytes
  })
// A valid stream, then mutated: bytes inserted, removed, overwritten; CRLF swapped for CR.
const mutatedStream = fc
  .tuple(
    wellFormedStream,
    fc.array(fc.tuple(fc.nat(), fc.nat(3), interestingByte), { maxLength: 8 }),
    fc.boolean(),
  )
  .map(([bytes, mutations, crOnly]) => {
    let list = Array.from(bytes)
    for (const [at, kind, byte] of mutations) {
      const index = list.length === 0 ? 0 : at % list.length
      if (kind === 0) list.splice(index, 0, byte)
      else if (kind === 1) list.splice(index, 1)
      else if (kind === 2) list[index] = byte
      else list = [...list.slice(0, index), ...list.slice(index, index + 8), ...list.slice(index)]
    }
    if (crOnly) list = list.map((byte) => (byte === 10 ? 13 : byte))
    return Uint8Array.from(list)
  })
const anyStream = fc.oneof(randomBytes, wellFormedStream, mutatedStream)
const cuts = fc.array(fc.nat(), { maxLength: 20 })
const unlimited = {
  maxLineBytes: Number.POSITIVE_INFINITY,
  maxEventBytes: Number.POSITIVE_INFINITY,
}
let cases = 0

describe('parser fuzzing: random and mutated byte streams', () => {
  it('never throws without limits, sees what the spec sees, and gives identical results for every chunking', () => {
    fc.assert(
      fc.property(anyStream, cuts, (bytes, offsets) => {
        cases++
        const whole = run([bytes], unlimited)
        const chunked = run(split(bytes, offsets), unlimited)
        const byteByByte = run(
          Array.from(bytes, (byte) => Uint8Array.of(byte)),
          unlimited,
        )
        const oracle = specParse(decodeStream(bytes))
        expect(whole.error).toBeUndefined()
        expect(whole.events).toEqual(oracle.events)
        expect(whole.ids).toEqual(oracle.ids)
        expect(whole.retries).toEqual(oracle.retries)
        expect(whole.comments).toEqual(oracle.comments)
        for (const other of [chunked, byteByByte]) {
          expect(other.events).toEqual(whole.events)
          expect(other.ids).toEqual(whole.ids)
          expect(other.retries).toEqual(whole.retries)
          expect(other.comments).toEqual(whole.comments)
        }
      }),
      { seed, numRuns: size(2_000, 100_000) },
    )
  })

  it('with limits: throws only its typed limit errors, holds no more than the limits, and never fails a stream that stays within them', () => {
    const maxLineBytes = 24
    const maxEventBytes = 64
    let limitErrors = 0
    fc.assert(
      fc.property(anyStream, cuts, (bytes, offsets) => {
        cases++
        const chunks = split(bytes, offsets)
        const observed = run(chunks, { maxLineBytes, maxEventBytes })
        for (const tail of observed.tails) {
          // Up to 3 bytes of a split UTF-8 character and a BOM are held outside the line.
          expect(tail.line).toBeLessThanOrEqual(maxLineBytes + 6)
          expect(tail.event).toBeLessThanOrEqual(maxEventBytes + 6)
        }
        const oracle = specParse(decodeStream(bytes))
        if (observed.error === undefined) {
          expect(observed.events).toEqual(oracle.events)
          return
        }
        limitErrors++
        // Events before the error are the stream's first events, exactly.
        expect(observed.events).toEqual(oracle.events.slice(0, observed.events.length))
        // And the error was earned: at the failing chunk a remainder really passed a limit
        // (an invalid byte counts as the 3 bytes of U+FFFD it decodes to).
        const failedAt = observed.tails.length
        const consumed = chunks
          .slice(0, failedAt + 1)
          .reduce((total, chunk) => total + chunk.length, 0)
        const tail = tailsOf(Array.from(bytes.subarray(0, consumed)))
        if (observed.error.code === 'line-too-long')
          expect(tail.line * 3 + 6).toBeGreaterThan(maxLineBytes)
        else expect(Math.max(tail.event, tail.line) * 3 + 6).toBeGreaterThan(maxEventBytes)
      }),
      { seed, numRuns: size(2_000, 100_000) },
    )
    report('parser fuzz: limit errors among limited cases', limitErrors)
    expect(limitErrors).toBeGreaterThan(0)
  })

  it('counts the part of an event that arrived in an earlier chunk against maxEventBytes (found by the fuzzer)', () => {
    // The event's first data line starts in the first chunk and ends in the second: 25 bytes of
    // event so far, over the 20-byte limit, though the second chunk alone holds only 15.
    const observed = run([encoder.encode('data: aaaa'), encoder.encode('aaaa\ndata: bbbb')], {
      maxLineBytes: 100,
      maxEventBytes: 20,
    })
    expect(observed.error?.code).toBe('event-too-large')
  })

  it('stops a never-ending line at maxLineBytes however it is chunked, with heap held near the limit', () => {
    const megabytes = size(64, 1024)
    const chunk = encoder.encode('x'.repeat(65_536))
    let error: unknown
    let fed = 0
    const parser = createParser({ onError: (caught) => (error = caught) })
    const before = process.memoryUsage().heapUsed
    let peak = before
    while (error === undefined && fed < megabytes * 1_048_576) {
      parser.feed(chunk)
      fed += chunk.length
      peak = Math.max(peak, process.memoryUsage().heapUsed)
    }
    expect(SseError.isInstance(error) && error.code).toBe('line-too-long')
    // The default limit is 1 MiB: the error came within one chunk of it.
    expect(fed).toBeLessThanOrEqual(1_048_576 + chunk.length)
    // After the error the parser drops everything it gets.
    for (let index = 0; index < 64; index++) parser.feed(chunk)
    report('parser: never-ending line stopped after (bytes), heap growth (MiB)', {
      bytes: fed,
      heapGrowthMiB: Math.round(((peak - before) / 1_048_576) * 10) / 10,
    })
    expect(peak - before).toBeLessThan(64 * 1_048_576)
  })

  it('reports the number of cases run', () => {
    report('parser fuzz: total cases (each run whole, chunked and byte by byte)', cases)
    expect(cases).toBeGreaterThan(0)
  })
})
