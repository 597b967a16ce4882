/**
 * Workload 1: parsing. Run with `npm run bench -- --only=parse` (add `--quick` for a short run).
 *
 * Method: every fixture is built once in memory (seeded, so every run parses the same bytes) and cut
 * into chunks up front, so the timed region is parsing only. Two groups, each with its reference:
 * - synchronous parsers fed chunk by chunk (reference: eventsource-parser's `createParser` behind a
 *   streaming `TextDecoder`, which is how it is meant to be fed bytes); `TextDecoder` alone over the
 *   same chunks (one-shot decodes, the fastest way in Node) is the ceiling no parser that decodes
 *   UTF-8 can pass, decoding plus one `indexOf` per line that is not blank (no field read, no
 *   string or event made) is the speed no parser of decoded text can pass either, and "events
 *   alone" (the same plus one slice per value and one event object per block, told the fixtures'
 *   format so that it checks nothing) is a speed a parser that keeps the rules, and so does all of
 *   that and more, does not reach;
 * - stream pipelines from a `ReadableStream<Uint8Array>` to parsed events (reference:
 *   `pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream())`).
 * Every contender's output is checked after round one (event count and total data length).
 * mitata times one full pass per sample, after one full GC outside the timed region;
 * contenders are interleaved for several rounds (order rotating), and the tables give the median
 * pass over rounds with min-max, and the per-round speed ratio against the reference.
 *
 * "LLM answers" is timed without mitata, since each sample is one short stream (500 token events,
 * one per chunk): after 300 streams of warm-up, each round times 15 streams that each start after a
 * full GC (outside the timed region), then 200 back-to-back streams of which the last 100 count;
 * each gives its median per round, and the same rotation and ratios apply.
 */
import { getLines, getMessages } from '@microsoft/fetch-event-source/lib/esm/parse.js'
import { createParser as createParserV4 } from 'eventsource-parser'
import { EventSourceParserStream } from 'eventsource-parser/stream'
import { createParser as createParserV3 } from 'eventsource-parser-v3'
import { events as fetchEventStreamEvents } from 'fetch-event-stream'
import { type Contender, interleave, type Measured, speedups } from './_interleave.ts'
import { loadParser, loadParseStream } from './_ours.ts'
import { type BenchOptions, bySize, type Check, type Section } from './_report.ts'
import {
  createRandom,
  formatNumber,
  formatRatio,
  formatSummary,
  markdownTable,
  summarize,
} from './_stats.ts'
import { packageVersion } from './_versions.ts'

interface Fixture {
  name: string
  description: string
  chunks: Uint8Array[]
  bytes: number
  events: number
  dataLength: number
  /**
   * CR LF line ends. Shown for what users meet (sse-starlette, behind many Python LLM servers,
   * writes CRLF by default); no issue sets a ratio on it, and the "events alone" ceiling, told LF
   * line ends, is left out.
   */
  crlf?: boolean
}

interface Tally {
  events: number
  dataLength: number
}

const encoder = new TextEncoder()
const words = ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog', 'token', 'stream']

function chunkFixed(bytes: Uint8Array, size: number): Uint8Array[] {
  const chunks: Uint8Array[] = []
  for (let offset = 0; offset < bytes.length; offset += size) {
    chunks.push(bytes.subarray(offset, offset + size))
  }
  return chunks
}

function chunkRandom(bytes: Uint8Array, seed: number, min: number, max: number): Uint8Array[] {
  const random = createRandom(seed)
  const chunks: Uint8Array[] = []
  let offset = 0
  while (offset < bytes.length) {
    const size = min + Math.floor(random() * (max - min + 1))
    chunks.push(bytes.subarray(offset, offset + size))
    offset += size
  }
  return chunks
}

function buildTokens(count: number): { text: string; dataLength: number } {
  const random = createRandom(7)
  const parts: string[] = []
  let dataLength = 0
  for (let index = 0; index < count; index++) {
    const data = `{"t":"${words[Math.floor(random() * words.length)]}"}`
    dataLength += data.length
    parts.push(`id: ${index}\ndata: ${data}\n\n`)
  }
  return { text: parts.join(''), dataLength }
}

function buildJson(count: number): { text: string; dataLength: number } {
  const items = Array.from({ length: 13 }, (_, index) => ({
    id: index,
    name: `item-${index}`,
    price: 100 + index * 1.25,
    tags: ['alpha', 'beta', 'gamma'],
    description: 'a JSON payload of about two kilobytes, like a state snapshot',
  }))
  const parts: string[] = []
  let dataLength = 0
  for (let index = 0; index < count; index++) {
    const data = JSON.stringify({ seq: index, items })
    dataLength += data.length
    parts.push(`event: snapshot\nid: ${index}\ndata: ${data}\n\n`)
  }
  return { text: parts.join(''), dataLength }
}

function buildMultiline(count: number): { text: string; dataLength: number } {
  const parts: string[] = []
  let dataLength = 0
  for (let index = 0; index < count; index++) {
    const lines = [
      `line one of event ${index}`,
      'line two: a colon inside',
      ' line three with a leading space',
      'line four, the last one',
    ]
    dataLength += lines.join('\n').length
    parts.push(`event: log\n${lines.map((line) => `data: ${line}\n`).join('')}\n`)
  }
  return { text: parts.join(''), dataLength }
}

function fixtures(options: BenchOptions): Fixture[] {
  const tokenCount = bySize(options.scale, { full: 200_000, quick: 100_000, smoke: 2_000 })
  const jsonCount = bySize(options.scale, { full: 20_000, quick: 10_000, smoke: 200 })
  const multilineCount = bySize(options.scale, { full: 50_000, quick: 25_000, smoke: 500 })
  const longLine = bySize(options.scale, { full: 1 << 20, quick: 1 << 20, smoke: 64 << 10 })
  const tokens = buildTokens(tokenCount)
  const tokenBytes = encoder.encode(tokens.text)
  const tokenCrlfBytes = encoder.encode(tokens.text.replaceAll('\n', '\r\n'))
  const json = buildJson(jsonCount)
  const jsonBytes = encoder.encode(json.text)
  const multiline = buildMultiline(multilineCount)
  const multilineBytes = encoder.encode(multiline.text)
  const longBytes = encoder.encode(`data: ${'x'.repeat(longLine)}\n\n`)
  const count = (n: number) => formatNumber(n)
  return [
    {
      name: 'tokens / 64 KiB',
      description: `${count(tokenCount)} token events (\`id\` + \`data: {"t":"word"}\`), 64 KiB chunks`,
      chunks: chunkFixed(tokenBytes, 64 << 10),
      bytes: tokenBytes.length,
      events: tokenCount,
      dataLength: tokens.dataLength,
    },
    {
      name: 'tokens / random 1-100 B',
      description: `the same ${count(tokenCount)} token events in seeded random 1-100 byte chunks`,
      chunks: chunkRandom(tokenBytes, 42, 1, 100),
      bytes: tokenBytes.length,
      events: tokenCount,
      dataLength: tokens.dataLength,
    },
    {
      name: '2 KB JSON / 64 KiB',
      description: `${count(jsonCount)} events of 2 KB JSON with \`event\` and \`id\`, 64 KiB chunks`,
      chunks: chunkFixed(jsonBytes, 64 << 10),
      bytes: jsonBytes.length,
      events: jsonCount,
      dataLength: json.dataLength,
    },
    {
      name: 'multi-line / 64 KiB',
      description: `${count(multilineCount)} events of 4 \`data:\` lines each, 64 KiB chunks`,
      chunks: chunkFixed(multilineBytes, 64 << 10),
      bytes: multilineBytes.length,
      events: multilineCount,
      dataLength: multiline.dataLength,
    },
    {
      name: '1 MiB line / 1 KiB',
      description: `one ${longLine >> 10} KiB \`data:\` line in 1 KiB chunks`,
      chunks: chunkFixed(longBytes, 1024),
      bytes: longBytes.length,
      events: 1,
      dataLength: longLine,
    },
    {
      name: 'tokens, CRLF / 64 KiB',
      description: `the same ${count(tokenCount)} token events with CR LF line ends (as sse-starlette writes them), 64 KiB chunks; no target`,
      chunks: chunkFixed(tokenCrlfBytes, 64 << 10),
      bytes: tokenCrlfBytes.length,
      events: tokenCount,
      dataLength: tokens.dataLength,
      crlf: true,
    },
  ]
}

function streamOf(chunks: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  let index = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[index++]
      if (chunk) controller.enqueue(chunk)
      else controller.close()
    },
  })
}

function verifier(fixture: Fixture) {
  return (tally: Tally) =>
    tally.events === fixture.events && tally.dataLength === fixture.dataLength
      ? undefined
      : `${tally.events} events / ${tally.dataLength} data chars, expected ${fixture.events} / ${fixture.dataLength}`
}

const eventsAlone =
  'events alone (ceiling: decode + one search per non-blank line + values + event objects)'
const feedReference = `eventsource-parser ${packageVersion('eventsource-parser')} createParser + TextDecoder`
const decodingReference = `eventsource-parser ${packageVersion('eventsource-parser')} createParser + ssekit's decoding (no target)`
const streamReference = `eventsource-parser ${packageVersion('eventsource-parser')} EventSourceParserStream pipeline`

async function feedContenders(fixture: Fixture): Promise<Contender<Tally>[]> {
  const ours = await loadParser()
  const verify = verifier(fixture)
  const { chunks } = fixture
  const contenders: Contender<Tally>[] = [
    {
      // One-shot decodes (Node's fast native path), as ssekit does for a chunk that cannot end
      // inside a character; a streaming decoder, as the others use, is slower in Node 20.
      name: 'TextDecoder alone (ceiling: one-shot decode per chunk)',
      run: () => {
        const decoder = new TextDecoder()
        let length = 0
        for (const chunk of chunks) length += decoder.decode(chunk).length
        return { events: fixture.events, dataLength: length }
      },
    },
    {
      // What any parser of decoded text must at least do: decode, and find every line end. No
      // field is read and no string or event is made, so no such parser can be faster.
      name: 'line ends alone (ceiling: decode + one search per non-blank line)',
      run: () => {
        const decoder = new TextDecoder()
        let lines = 0
        for (const chunk of chunks) {
          const text = decoder.decode(chunk)
          const length = text.length
          let position = 0
          while (position < length) {
            // A blank line is told by its first character: no parser needs to search for it.
            if (text.charCodeAt(position) !== 10) {
              const end = text.indexOf('\n', position)
              if (end === -1) break
              position = end
            }
            lines++
            position++
          }
        }
        return { events: fixture.events, dataLength: lines }
      },
    },
    {
      // What handing these events over costs at the least: decode, one search per line that is not
      // blank (a blank line is told by its first character), one slice per value, `data` lines
      // joined, one event object per block. It is told the fixtures' format (ASCII, LF, one space
      // after every colon, fields known by their first letter), so it checks nothing and is no
      // parser: one that keeps the rules does all of this and more.
      name: eventsAlone,
      verify,
      run: () => {
        const tally = { events: 0, dataLength: 0 }
        const onEvent = (event: { type: string; data: string; lastEventId: string }) => {
          tally.events++
          tally.dataLength += event.data.length
        }
        const decoder = new TextDecoder()
        let pending = ''
        let data: string | undefined
        let type: string | undefined
        let lastEventId = ''
        // One line's value: `line` from `start` to `end`, its field told by its first letter.
        const take = (line: string, start: number, end: number) => {
          const first = line.charCodeAt(start)
          if (first === 100) {
            const value = line.slice(start + 6, end)
            data = data === undefined ? value : `${data}\n${value}`
          } else if (first === 105) lastEventId = line.slice(start + 4, end)
          else type = line.slice(start + 7, end)
        }
        for (const chunk of chunks) {
          const text = decoder.decode(chunk)
          let end = text.indexOf('\n')
          if (end === -1) {
            pending += text
            continue
          }
          let position = 0
          if (pending !== '') {
            const line = pending + text.slice(0, end)
            take(line, 0, line.length)
            pending = ''
            position = end + 1
          }
          const length = text.length
          while (position < length) {
            if (text.charCodeAt(position) === 10) {
              if (data !== undefined) onEvent({ type: type ?? 'message', data, lastEventId })
              data = type = undefined
              position++
            } else {
              end = text.indexOf('\n', position)
              if (end === -1) break
              take(text, position, end)
              position = end + 1
            }
          }
          pending = text.slice(position)
        }
        return tally
      },
    },
    {
      name: feedReference,
      verify,
      run: () => {
        const tally = { events: 0, dataLength: 0 }
        const decoder = new TextDecoder()
        const parser = createParserV4({
          onEvent(event) {
            tally.events++
            tally.dataLength += event.data.length
          },
        })
        for (const chunk of chunks) parser.feed(decoder.decode(chunk, { stream: true }))
        return tally
      },
    },
    {
      // Not a way its docs show, and no target: the reference above decodes with `stream`, as any
      // chunked UTF-8 needs, which in Node 20 leaves the native fast path for good. This row decodes
      // the way ssekit does (one-shot unless a chunk may end inside a character), so the gap
      // between the two rows is the decoder's share of our lead, and the rest the parser's.
      name: decodingReference,
      verify,
      run: () => {
        const tally = { events: 0, dataLength: 0 }
        const oneShot = new TextDecoder()
        const streaming = new TextDecoder()
        let split = false
        const parser = createParserV4({
          onEvent(event) {
            tally.events++
            tally.dataLength += event.data.length
          },
        })
        for (const chunk of chunks) {
          const ends = (chunk[chunk.length - 1] as number) >= 0x80
          const text: string =
            split || ends ? streaming.decode(chunk, { stream: true }) : oneShot.decode(chunk)
          split = ends || text.length < chunk.length
          parser.feed(text)
        }
        return tally
      },
    },
    {
      name: `eventsource-parser ${packageVersion('eventsource-parser-v3')} createParser + TextDecoder`,
      verify,
      run: () => {
        const tally = { events: 0, dataLength: 0 }
        const decoder = new TextDecoder()
        const parser = createParserV3({
          onEvent(event) {
            tally.events++
            tally.dataLength += event.data.length
          },
        })
        for (const chunk of chunks) parser.feed(decoder.decode(chunk, { stream: true }))
        return tally
      },
    },
    {
      name: `@microsoft/fetch-event-source ${packageVersion('@microsoft/fetch-event-source')} getLines + getMessages`,
      verify,
      run: () => {
        const tally = { events: 0, dataLength: 0 }
        const onChunk = getLines(
          getMessages(
            () => {},
            () => {},
            (message) => {
              tally.events++
              tally.dataLength += message.data.length
            },
          ),
        )
        for (const chunk of chunks) onChunk(chunk)
        return tally
      },
    },
    {
      name: 'ssekit createParser',
      verify,
      unavailable: ours.ok ? undefined : ours.reason,
      run: () => {
        if (!ours.ok) throw new Error(ours.reason)
        const tally = { events: 0, dataLength: 0 }
        const parser = ours.api.createParser({
          onEvent(event) {
            tally.events++
            tally.dataLength += event.data.length
          },
        })
        for (const chunk of chunks) parser.feed(chunk)
        return tally
      },
    },
  ]
  // "Events alone" is told LF line ends: on CRLF its values would keep the CR.
  return fixture.crlf
    ? contenders.filter((contender) => contender.name !== eventsAlone)
    : contenders
}

async function streamContenders(fixture: Fixture): Promise<Contender<Tally>[]> {
  const ours = await loadParseStream()
  const verify = verifier(fixture)
  const { chunks } = fixture
  return [
    {
      name: streamReference,
      verify,
      run: async () => {
        const tally = { events: 0, dataLength: 0 }
        const events = streamOf(chunks)
          .pipeThrough(new TextDecoderStream())
          .pipeThrough(new EventSourceParserStream())
        for await (const event of events) {
          tally.events++
          tally.dataLength += event.data.length
        }
        return tally
      },
    },
    {
      name: `fetch-event-stream ${packageVersion('fetch-event-stream')} events()`,
      verify,
      run: async () => {
        const tally = { events: 0, dataLength: 0 }
        for await (const event of fetchEventStreamEvents(new Response(streamOf(chunks)))) {
          tally.events++
          tally.dataLength += event.data?.length ?? 0
        }
        return tally
      },
    },
    {
      name: 'ssekit parseEventStream',
      verify,
      unavailable: ours.ok ? undefined : ours.reason,
      run: async () => {
        if (!ours.ok) throw new Error(ours.reason)
        const tally = { events: 0, dataLength: 0 }
        for await (const event of ours.api.parseEventStream(streamOf(chunks))) {
          tally.events++
          tally.dataLength += event.data.length
        }
        return tally
      },
    },
  ]
}

/** One LLM answer: 500 token events, one per chunk, as they arrive from the network. */
function buildAnswer(): Fixture {
  const tokens = buildTokens(500)
  const chunks = tokens.text
    .split('\n\n')
    .slice(0, -1)
    .map((block) => encoder.encode(`${block}\n\n`))
  const bytes = chunks.reduce((sum, chunk) => sum + chunk.length, 0)
  return {
    name: 'LLM answers',
    description: '500 token events per stream, one event per chunk',
    chunks,
    bytes,
    events: 500,
    dataLength: tokens.dataLength,
  }
}

/**
 * The parsers of streams that start while the process is warm, and of streams that start after a
 * full GC with no stream open (as after an idle period): V8 keeps a function's optimised code only
 * while a closure that runs it is alive, so a parser made of per-stream closures can start cold.
 * Not mitata: each sample is one short stream, and the GC must come before each cold one.
 */
async function measureAnswers(
  fixture: Fixture,
  options: BenchOptions,
): Promise<{
  cold: Measured[] | undefined
  warm: Measured[]
  heading: { cold: string; warm: string }
}> {
  // Without --expose-gc (the smoke test) the streams are still run and checked, but not cold.
  const gc = (globalThis as { gc?: () => void }).gc
  const rounds = bySize(options.scale, { full: 5, quick: 2, smoke: 1 })
  const warmUp = bySize(options.scale, { full: 300, quick: 300, smoke: 3 })
  const coldSamples = bySize(options.scale, { full: 15, quick: 15, smoke: 1 })
  const warmSamples = bySize(options.scale, { full: 100, quick: 100, smoke: 2 })
  const contenders = (await feedContenders(fixture)).filter(
    (contender) => contender.verify !== undefined && contender.name !== eventsAlone,
  )
  const verify = verifier(fixture)
  const cold: Measured[] = []
  const warm: Measured[] = []
  for (const contender of contenders) {
    cold.push({ name: contender.name, roundTimes: [], unavailable: contender.unavailable })
    warm.push({ name: contender.name, roundTimes: [], unavailable: contender.unavailable })
    if (contender.unavailable) continue
    // A busy process first: every parser's code is optimised before the first sample.
    for (let stream = 0; stream < warmUp; stream++) await contender.run()
    const wrong = verify((await contender.run()) as Tally)
    if (wrong) {
      const reason = `wrong result: ${wrong}`
      ;(cold.at(-1) as Measured).unavailable = reason
      ;(warm.at(-1) as Measured).unavailable = reason
      options.log(`parse: ${contender.name}: ${reason}`)
    }
  }
  const median = (values: number[]) => summarize(values).median
  const time = async (run: () => unknown) => {
    const started = performance.now()
    await run()
    return (performance.now() - started) * 1e6
  }
  for (let round = 0; round < rounds; round++) {
    for (let step = 0; step < contenders.length; step++) {
      const index = (step + round) % contenders.length
      const contender = contenders[index] as Contender<Tally>
      if ((warm[index] as Measured).unavailable) continue
      if (gc !== undefined) {
        const colds: number[] = []
        for (let sample = 0; sample < coldSamples; sample++) {
          gc()
          colds.push(await time(contender.run))
        }
        ;(cold[index] as Measured).roundTimes.push(median(colds))
      }
      const warms: number[] = []
      for (let stream = 0; stream < 2 * warmSamples; stream++) {
        const elapsed = await time(contender.run)
        if (stream >= warmSamples) warms.push(elapsed)
      }
      ;(warm[index] as Measured).roundTimes.push(median(warms))
    }
  }
  const heading = {
    cold: `each stream started after a full GC with no stream open (as after an idle period; median of ${coldSamples} per round)`,
    warm: `the same streams back to back (median of ${warmSamples} per round, after ${warmSamples} more)`,
  }
  return { cold: gc === undefined ? undefined : cold, warm, heading }
}

function table(fixture: Fixture, measured: Measured[], referenceName: string): string {
  const reference = measured.find((entry) => entry.name === referenceName) as Measured
  const rows = measured.map((entry) => {
    if (entry.unavailable || entry.roundTimes.length === 0) {
      return [entry.name, 'n/a', 'n/a', entry.unavailable ?? 'not measured']
    }
    const mibPerSecond = summarize(
      entry.roundTimes.map((ns) => fixture.bytes / 1048576 / (ns / 1e9)),
    )
    const eventsPerSecond = summarize(entry.roundTimes.map((ns) => fixture.events / (ns / 1e9)))
    const ratio =
      entry === reference ? '1.00x (reference)' : formatRatio(summarize(speedups(reference, entry)))
    return [entry.name, formatSummary(mibPerSecond), formatSummary(eventsPerSecond), ratio]
  })
  return markdownTable(['contender', 'MiB/s', 'events/s', 'vs reference'], rows)
}

/** How far a parser can go here, and how near ours is: a ratio the ceiling misses is out of reach. */
function ceilingNote(measured: Measured[]): string {
  const find = (name: string) =>
    measured.find((entry) => entry.name === name && !entry.unavailable && entry.roundTimes.length)
  const reference = find(feedReference)
  const ceiling = find(eventsAlone)
  const ours = find('ssekit createParser')
  if (!reference || !ceiling || !ours) return ''
  const reach = formatRatio(summarize(speedups(reference, ceiling)))
  const share = summarize(speedups(ceiling, ours))
  return `Ceiling: "events alone" runs at ${reach} eventsource-parser on this workload; ssekit createParser runs at ${Math.round(share.median * 100)}% of its speed (${Math.round(share.min * 100)}-${Math.round(share.max * 100)}%) while keeping every rule it skips.`
}

function check(
  claim: string,
  measured: Measured[],
  referenceName: string,
  oursName: string,
  minimum: number,
): Check {
  const reference = measured.find((entry) => entry.name === referenceName)
  const ours = measured.find((entry) => entry.name === oursName)
  if (!reference || !ours || ours.unavailable || reference.unavailable) {
    return { claim, measured: ours?.unavailable ?? 'not measured', pass: undefined }
  }
  const ratio = summarize(speedups(reference, ours))
  return { claim, measured: formatRatio(ratio), pass: ratio.median >= minimum }
}

export async function runParse(options: BenchOptions): Promise<Section> {
  const rounds = bySize(options.scale, { full: 5, quick: 2, smoke: 1 })
  const budgetMs = bySize(options.scale, { full: 60, quick: 40, smoke: 1 })
  const blocks: string[] = []
  const checks: Check[] = []
  const notMeasured: Section['notMeasured'] = []
  for (const fixture of fixtures(options)) {
    options.log(`parse: ${fixture.name} (${fixture.chunks.length} chunks)`)
    const settings = { rounds, budgetMs, slowPassMs: 400, log: options.log }
    const feed = await interleave(await feedContenders(fixture), settings)
    const stream = await interleave(await streamContenders(fixture), settings)
    for (const entry of [...feed, ...stream]) {
      if (entry.unavailable)
        notMeasured.push({ name: `${entry.name} (${fixture.name})`, reason: entry.unavailable })
    }
    blocks.push(
      `#### ${fixture.name}: ${fixture.description} (${formatNumber(fixture.bytes / 1048576)} MiB, ${formatNumber(fixture.chunks.length)} chunks)`,
      table(fixture, feed, feedReference),
      ceilingNote(feed),
      table(fixture, stream, streamReference),
    )
    if (fixture.crlf) continue
    checks.push(
      check(
        `createParser >= 2x eventsource-parser (${fixture.name})`,
        feed,
        feedReference,
        'ssekit createParser',
        2,
      ),
      check(
        `parseEventStream >= 3x EventSourceParserStream pipeline (${fixture.name})`,
        stream,
        streamReference,
        'ssekit parseEventStream',
        3,
      ),
    )
  }
  const answer = buildAnswer()
  options.log(`parse: ${answer.name}`)
  const answers = await measureAnswers(answer, options)
  for (const entry of [...(answers.cold ?? []), ...answers.warm]) {
    if (entry.unavailable)
      notMeasured.push({ name: `${entry.name} (${answer.name})`, reason: entry.unavailable })
  }
  blocks.push(
    `#### ${answer.name} after a full GC: ${answer.description}, ${answers.heading.cold}`,
    answers.cold === undefined
      ? 'Not measured: needs `node --expose-gc`.'
      : table(answer, answers.cold, feedReference),
    `#### ${answer.name}, warm: ${answers.heading.warm}`,
    table(answer, answers.warm, feedReference),
  )
  return {
    title: '1. Parser',
    method:
      'In-process (mitata `measure`; a full GC before each contender\'s samples, outside the timed region, none between samples). Fixtures are built and chunked up front; each contender\'s event count and total data length are checked (a contender with a wrong result gets no figures). Contenders interleaved for several rounds; throughput is the median pass over rounds (min-max), the ratio is the per-round speed against the named reference (median, min-max). Contenders whose pass takes over 0.4 s are timed as one pass per round after round one, in two rounds only. Three rows are ceilings, not parsers: "TextDecoder alone" decodes, "line ends alone" decodes and finds every line end (with one search per line that is not blank; a blank line is told by its first character), "events alone" also slices every value and makes every event object but is told the fixture\'s format and checks nothing (no CR, no limits, no field validation): a parser that keeps the rules does all of that work and more, so a ratio this row does not reach is out of its reach. The reference decodes with a streaming `TextDecoder` (`stream: true`), as chunked UTF-8 needs and as eventsource-parser users do; in Node 20 that decoder is slower than a one-shot decode. The row "eventsource-parser + ssekit\'s decoding" feeds it text decoded as ssekit does (one-shot unless a chunk may end inside a character): our ratio against that row is the parser\'s share of the lead, the rest is decoding. It has no target. The CRLF fixture (what sse-starlette sends) has no target and no "events alone" row. "LLM answers" are short streams (500 token events, one per chunk), timed without mitata after 300 streams of warm-up: per round, the median of 15 streams that each start after a full GC (outside the timed region), and the median of the last 100 of 200 back-to-back streams.',
    blocks,
    checks,
    notMeasured,
  }
}
