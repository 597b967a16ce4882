/**
 * Parser throughput: our `createParser` against eventsource-parser 3.1.1's `createParser` behind
 * one streaming `TextDecoder` (the way its users must feed it bytes), same process.
 *
 * Run from packages/fetch-client: `npx tsx --conditions=ssekit-source bench/parse.bench.ts`
 * (`--only=token` keeps the fixtures whose name contains "token"; `--rounds=N`, default 15).
 *
 * Method: the fixtures of issue 7 workload 1 (bench/_fixtures.ts), chunked up front. Both
 * contenders get the same `Uint8Array` chunks and both pay UTF-8 decoding; each one counts events
 * and sums `event.data.length` in `onEvent`, and the tally is checked every pass (a wrong result
 * aborts the run). One round times one full pass of each contender, in an order that rotates every
 * round; the first 3 rounds are warm-up. Time is process CPU time (user + system), which a busy
 * machine disturbs less than wall time. Our parser gets `maxLineBytes: 4 MiB` so that the 1 MiB
 * line (1 MiB of data after `data: `) fits whatever the chunking (limits stay on). We report the
 * median ms, the ratio of the medians, and the min-max of the per-round ratios. `TextDecoder`
 * alone over the same chunks is the floor.
 */
import { createParser as createReferenceParser } from 'eventsource-parser'
import { createParser } from '../src/parse.ts'
import { type Fixture, fixtureNames, fixtures, median } from './_fixtures.ts'

interface Tally {
  events: number
  dataLength: number
}

function ours(chunks: Uint8Array[]): Tally {
  const tally = { events: 0, dataLength: 0 }
  const parser = createParser({
    maxLineBytes: 4 << 20,
    onEvent(event) {
      tally.events++
      tally.dataLength += event.data.length
    },
  })
  for (const chunk of chunks) parser.feed(chunk)
  return tally
}

function reference(chunks: Uint8Array[]): Tally {
  const tally = { events: 0, dataLength: 0 }
  const decoder = new TextDecoder()
  const parser = createReferenceParser({
    onEvent(event) {
      tally.events++
      tally.dataLength += event.data.length
    },
  })
  for (const chunk of chunks) parser.feed(decoder.decode(chunk, { stream: true }))
  return tally
}

// The floor every contender pays: one streaming decode of the same chunks.
function decodeOnly(chunks: Uint8Array[]): Tally {
  const decoder = new TextDecoder()
  let length = 0
  for (const chunk of chunks) length += decoder.decode(chunk, { stream: true }).length
  return { events: -1, dataLength: length }
}

const contenders = [ours, reference, decodeOnly] as const

function time(run: (chunks: Uint8Array[]) => Tally, fixture: Fixture): number {
  const start = process.cpuUsage()
  const tally = run(fixture.chunks)
  const { user, system } = process.cpuUsage(start)
  const elapsed = (user + system) / 1000
  if (
    tally.events !== -1 &&
    (tally.events !== fixture.events || tally.dataLength !== fixture.dataLength)
  ) {
    throw new Error(
      `${run.name} on ${fixture.name}: ${tally.events} events / ${tally.dataLength} chars, expected ${fixture.events} / ${fixture.dataLength}`,
    )
  }
  return elapsed
}

const argument = (name: string) =>
  process.argv.find((value) => value.startsWith(`--${name}=`))?.slice(name.length + 3)
const only = argument('only') ?? ''
const rounds = Number(argument('rounds') ?? 15)
const warmup = 3

console.log(
  '| fixture | MB | ssekit ms | eventsource-parser 3.1.1 ms | ratio (per-round min-max) | TextDecoder alone ms |',
)
console.log('| --- | --- | --- | --- | --- | --- |')
for (const fixtureName of fixtureNames.filter((name) => name.includes(only))) {
  // Built one at a time: the heap holds only the fixture being measured.
  const [fixture] = fixtures(fixtureName, true) as [Fixture]
  const times: number[][] = contenders.map(() => [])
  for (let round = 0; round < rounds + warmup; round++) {
    for (let step = 0; step < contenders.length; step++) {
      const index = (round + step) % contenders.length
      const elapsed = time(contenders[index] as (typeof contenders)[number], fixture)
      if (round >= warmup) times[index]?.push(elapsed)
    }
  }
  const [mine = [], theirs = [], floor = []] = times
  const ratios = mine.map((value, index) => (theirs[index] ?? Number.NaN) / value)
  const [a, b] = [median(mine), median(theirs)]
  const marker = fixture.target ? (b / a >= 2 ? '' : ' (below 2x)') : ' (no target)'
  console.log(
    `| ${fixture.name} | ${(fixture.bytes / 1e6).toFixed(1)} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(b / a).toFixed(2)}x (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})${marker} | ${median(floor).toFixed(1)} |`,
  )
}
