/**
 * Stream throughput: `parseEventStream` (one read loop feeding the sync parser) against
 * eventsource-parser 3.1.1's pipeline `body.pipeThrough(new TextDecoderStream())
 * .pipeThrough(new EventSourceParserStream())`, both consumed with `for await`. Same process,
 * interleaved rounds, median CPU time.
 *
 * Run from packages/fetch-client: `npx tsx --conditions=source bench/stream.bench.ts`.
 */
import { EventSourceParserStream } from 'eventsource-parser/stream'
import { parseEventStream } from '../src/parse-stream.ts'

const encoder = new TextEncoder()
let seed = 7
function random(): number {
  seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff
  return seed / 0x7fffffff
}
function chunk(body: Uint8Array, sizes: () => number): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let start = 0; start < body.length; ) {
    const size = sizes()
    out.push(body.slice(start, start + size))
    start += size
  }
  return out
}
function body(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let index = 0
  return new ReadableStream({
    pull(controller) {
      const next = chunks[index++]
      if (next) controller.enqueue(next)
      else controller.close()
    },
  })
}

const tokens = encoder.encode(
  Array.from({ length: 200_000 }, (_, index) => `data: {"text":"tok${index % 100}"}\n\n`).join(''),
)
const json2k = encoder.encode(
  Array.from(
    { length: 20_000 },
    (_, index) => `id: ${index}\ndata: ${JSON.stringify({ index, payload: 'x'.repeat(1980) })}\n\n`,
  ).join(''),
)
const fixtures: [string, Uint8Array[], number][] = [
  ['200k token events, 64 KiB chunks', chunk(tokens, () => 65_536), 200_000],
  [
    '200k token events, random 1-100 B chunks',
    chunk(tokens, () => 1 + Math.floor(random() * 100)),
    200_000,
  ],
  ['20k 2 KB JSON events, 64 KiB chunks', chunk(json2k, () => 65_536), 20_000],
]

async function ours(chunks: Uint8Array[]): Promise<number> {
  let events = 0
  for await (const _ of parseEventStream(body(chunks))) events++
  return events
}

async function pipeline(chunks: Uint8Array[]): Promise<number> {
  let events = 0
  const stream = body(chunks)
    .pipeThrough(new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>)
    .pipeThrough(new EventSourceParserStream()) as unknown as AsyncIterable<unknown>
  for await (const _ of stream) events++
  return events
}

function cpuMs(): number {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}
const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN

console.log(
  '| fixture | ssekit parseEventStream ms | TextDecoderStream + EventSourceParserStream ms | ratio |',
)
console.log('| --- | --- | --- | --- |')
for (const [name, chunks, expected] of fixtures) {
  const mine: number[] = []
  const theirs: number[] = []
  for (let round = 0; round < 9; round++) {
    for (const [run, out] of [
      [ours, mine],
      [pipeline, theirs],
    ] as const) {
      const start = cpuMs()
      const events = await run(chunks)
      out.push(cpuMs() - start)
      if (events !== expected) throw new Error(`expected ${expected} events, got ${events}`)
    }
  }
  const [a, b] = [median(mine.slice(3)), median(theirs.slice(3))]
  console.log(`| ${name} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(b / a).toFixed(2)}x |`)
}
