/**
 * Stream throughput: `parseEventStream` (one read loop feeding the sync parser) against
 * eventsource-parser 3.1.1's pipeline `body.pipeThrough(new TextDecoderStream())
 * .pipeThrough(new EventSourceParserStream())`, both consumed with `for await`. Same process,
 * interleaved rounds, median CPU time. Fixtures: issue 7 workload 1 (bench/_fixtures.ts); both sides
 * sum `event.data.length`, checked every pass. `--only=token` keeps matching fixtures.
 *
 * Run from packages/fetch-client: `npx tsx --conditions=ssekit-source bench/stream.bench.ts`.
 */
import { EventSourceParserStream } from 'eventsource-parser/stream'
import { parseEventStream } from '../src/parse-stream.ts'
import { fixtureNames, fixtures, median } from './_fixtures.ts'

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

async function ours(chunks: Uint8Array[]): Promise<number> {
  let dataLength = 0
  for await (const event of parseEventStream(body(chunks))) dataLength += event.data.length
  return dataLength
}

async function pipeline(chunks: Uint8Array[]): Promise<number> {
  let dataLength = 0
  const stream = body(chunks)
    .pipeThrough(new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>)
    .pipeThrough(new EventSourceParserStream()) as unknown as AsyncIterable<{ data: string }>
  for await (const event of stream) dataLength += event.data.length
  return dataLength
}

function cpuMs(): number {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

console.log(
  '| fixture | ssekit parseEventStream ms | TextDecoderStream + EventSourceParserStream ms | ratio |',
)
console.log('| --- | --- | --- | --- |')
const only = process.argv.find((value) => value.startsWith('--only='))?.slice(7) ?? ''
for (const fixtureName of fixtureNames.filter((name) => name.includes(only))) {
  // Built one at a time: the heap holds only the fixture being measured.
  const [fixture] = fixtures(fixtureName, true)
  if (fixture === undefined || !fixture.target) continue
  const { name, chunks, dataLength: expected } = fixture
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
      if (events !== expected)
        throw new Error(`${name}: ${events} data chars, expected ${expected}`)
    }
  }
  const [a, b] = [median(mine.slice(3)), median(theirs.slice(3))]
  console.log(`| ${name} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(b / a).toFixed(2)}x |`)
}
