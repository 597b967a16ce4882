/**
 * Parser throughput: ours against eventsource-parser 3.1.1 (`createParser` behind one streaming
 * `TextDecoder`, the way its users drive it), same process, interleaved rounds, medians.
 *
 * Run: `node --experimental-strip-types --conditions=source bench/parse.bench.ts` from
 * packages/fetch-client (Node 20: `npx tsx --conditions=source bench/parse.bench.ts`).
 * Each sample parses the whole fixture with a fresh parser; we count events so the work cannot be
 * optimised away. Chunks are prepared before timing: we measure parsing, not slicing.
 */
import { createParser as createReferenceParser } from 'eventsource-parser'
import { createParser } from '../src/parse.ts'

const encoder = new TextEncoder()

function chunk(body: Uint8Array, sizes: () => number): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let start = 0; start < body.length; ) {
    const size = sizes()
    out.push(body.slice(start, start + size))
    start += size
  }
  return out
}

let seed = 42
function random(): number {
  seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff
  return seed / 0x7fffffff
}

const tokens = encoder.encode(
  Array.from({ length: 200_000 }, (_, index) => `data: {"text":"tok${index % 100}"}\n\n`).join(''),
)
const json2k = encoder.encode(
  Array.from(
    { length: 20_000 },
    (_, index) =>
      `id: ${index}\nevent: update\ndata: ${JSON.stringify({ index, payload: 'x'.repeat(1980) })}\n\n`,
  ).join(''),
)
const multiline = encoder.encode(
  Array.from(
    { length: 50_000 },
    (_, index) => `data: line one ${index}\ndata: line two\ndata: line three é\n\n`,
  ).join(''),
)
const longLine = encoder.encode(`data: ${'y'.repeat(1 << 20)}\n\n`)
const longerLine = encoder.encode(`data: ${'y'.repeat(2 << 20)}\n\n`)

const fixtures: [string, Uint8Array[], number][] = [
  ['200k token events, 64 KiB chunks', chunk(tokens, () => 65_536), 200_000],
  [
    '200k token events, random 1-100 B chunks',
    chunk(tokens, () => 1 + Math.floor(random() * 100)),
    200_000,
  ],
  ['20k 2 KB JSON events, 64 KiB chunks', chunk(json2k, () => 65_536), 20_000],
  ['50k multi-line events, 64 KiB chunks', chunk(multiline, () => 65_536), 50_000],
  ['one 1 MiB line, 4 B chunks', chunk(longLine, () => 4), 1],
  ['one 2 MiB line, 4 B chunks (linear: about twice the 1 MiB row)', chunk(longerLine, () => 4), 1],
  ['one 1 MiB line, whole', [longLine], 1],
]

function ours(chunks: Uint8Array[]): number {
  let events = 0
  const parser = createParser({ onEvent: () => void events++, maxLineBytes: 4 << 20 })
  for (const piece of chunks) parser.feed(piece)
  return events
}

function reference(chunks: Uint8Array[]): number {
  let events = 0
  const parser = createReferenceParser({ onEvent: () => void events++ })
  const decoder = new TextDecoder()
  for (const piece of chunks) parser.feed(decoder.decode(piece, { stream: true }))
  return events
}

// The floor: what decoding alone costs, which every parser here pays.
function decodeOnly(chunks: Uint8Array[]): number {
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true })
  let length = 0
  for (const piece of chunks) length += decoder.decode(piece).length
  // The length keeps the decode from being optimised away; the event count check is skipped.
  return length >= 0 ? -1 : 0
}

function time(
  run: (chunks: Uint8Array[]) => number,
  chunks: Uint8Array[],
  expected: number,
): number {
  const start = performance.now()
  const events = run(chunks)
  const elapsed = performance.now() - start
  if (events !== expected) throw new Error(`expected ${expected} events, got ${events}`)
  return elapsed
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}

console.log(
  '| fixture | MB | ssekit ms | eventsource-parser 3.1.1 ms | ratio | TextDecoder alone ms |',
)
console.log('| --- | --- | --- | --- | --- | --- |')
for (const [name, chunks, expected] of fixtures) {
  const bytes = chunks.reduce((sum, piece) => sum + piece.length, 0)
  const mine: number[] = []
  const theirs: number[] = []
  const floor: number[] = []
  for (let round = 0; round < 15; round++) {
    mine.push(time(ours, chunks, expected))
    theirs.push(time(reference, chunks, expected))
    floor.push(time(decodeOnly, chunks, -1))
  }
  const [a, b, c] = [median(mine.slice(4)), median(theirs.slice(4)), median(floor.slice(4))]
  console.log(
    `| ${name} | ${(bytes / 1e6).toFixed(1)} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(b / a).toFixed(2)}x | ${c.toFixed(1)} |`,
  )
}
