/**
 * Workload 2: encoding events to bytes. Run with `npm run bench -- --only=encode`.
 *
 * Method: the event objects are built up front (data already a string, so no contender pays for
 * `JSON.stringify`), and one pass turns all of them into bytes. The reference is the seed's writer:
 * a template string per event and one `TextEncoder.encode` per frame. Hono's `writeSSE` runs on
 * its own `SSEStreamingApi` over a `TransformStream` with the readable side drained, which is how
 * every `streamSSE` handler pays for it. Ours: `encodeEvent` one frame at a time, and
 * `createEventStream` read to the end (which coalesces ready frames into one chunk) from an array
 * and from an async generator (checked against the seed writer fed by the same generator).
 * Output byte counts are checked after round one. mitata (one full GC before each contender's
 * samples), contenders interleaved for several rounds, ratios per round against the reference.
 */
import { SSEStreamingApi } from 'hono/streaming'
import { type Contender, interleave, type Measured, speedups } from './_interleave.ts'
import { loadCore, type Source } from './_ours.ts'
import { type BenchOptions, bySize, type Check, type Section } from './_report.ts'
import { formatNumber, formatRatio, formatSummary, markdownTable, summarize } from './_stats.ts'
import { packageVersion } from './_versions.ts'

interface BenchEvent {
  id: string
  data: string
  // No `| undefined`: Hono's SSEMessage type does not accept it.
  event?: string
}

interface Fixture {
  name: string
  description: string
  events: BenchEvent[]
  /** The bytes of all frames, without any stream preamble. */
  bytes: number
}

const textEncoder = new TextEncoder()

function seedFrame(event: BenchEvent): string {
  return `${event.event === undefined ? '' : `event: ${event.event}\n`}id: ${event.id}\ndata: ${event.data}\n\n`
}

function fixtures(options: BenchOptions): Fixture[] {
  const smallCount = bySize(options.scale, { full: 200_000, quick: 100_000, smoke: 2_000 })
  const largeCount = bySize(options.scale, { full: 20_000, quick: 10_000, smoke: 200 })
  const small = Array.from({ length: smallCount }, (_, index) => ({
    id: String(index),
    data: '{"t":"word"}',
  }))
  const payload = JSON.stringify({
    items: Array.from({ length: 13 }, (_, index) => ({
      id: index,
      name: `item-${index}`,
      price: 100 + index * 1.25,
      tags: ['alpha', 'beta', 'gamma'],
      description: 'a JSON payload of about two kilobytes, like a state snapshot',
    })),
  })
  const large = Array.from({ length: largeCount }, (_, index) => ({
    event: 'snapshot',
    id: String(index),
    data: payload,
  }))
  const size = (events: BenchEvent[]) =>
    events.reduce((total, event) => total + textEncoder.encode(seedFrame(event)).length, 0)
  return [
    {
      name: 'small events',
      description: `${formatNumber(smallCount)} events \`{ id, data: '{"t":"word"}' }\``,
      events: small,
      bytes: size(small),
    },
    {
      name: '2 KB events',
      description: `${formatNumber(largeCount)} events \`{ event, id, data: <${payload.length} chars of JSON> }\``,
      events: large,
      bytes: size(large),
    },
  ]
}

async function drain(stream: ReadableStream<Uint8Array>): Promise<number> {
  let bytes = 0
  const reader = stream.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return bytes
    bytes += value.byteLength
  }
}

const reference = 'seed: template string + TextEncoder per frame'
const asyncReference = 'seed: the same, from an async generator'

async function contenders(fixture: Fixture): Promise<Contender<number>[]> {
  const core = await loadCore()
  const { events } = fixture
  // Ours may add an opening comment or `retry:` line; anything else means wrong bytes.
  const verify = (bytes: number) =>
    bytes >= fixture.bytes && bytes <= fixture.bytes + 64
      ? undefined
      : `${bytes} bytes, expected ${fixture.bytes}`
  const unavailable = core.ok ? undefined : core.reason
  const api = () => {
    if (!core.ok) throw new Error(core.reason)
    return core.api
  }
  return [
    {
      name: reference,
      verify,
      run: () => {
        let bytes = 0
        for (const event of events) bytes += textEncoder.encode(seedFrame(event)).byteLength
        return bytes
      },
    },
    {
      // The seed writer fed by the same async generator as ours below: both pay for async iteration.
      name: asyncReference,
      verify,
      run: async () => {
        async function* source() {
          for (const event of events) yield event
        }
        let bytes = 0
        for await (const event of source()) bytes += textEncoder.encode(seedFrame(event)).byteLength
        return bytes
      },
    },
    {
      name: `hono ${packageVersion('hono')} SSEStreamingApi.writeSSE`,
      verify,
      run: async () => {
        const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>()
        const stream = new SSEStreamingApi(writable, readable)
        const counted = drain(stream.responseReadable)
        for (const event of events) await stream.writeSSE(event)
        await stream.close()
        return counted
      },
    },
    {
      name: 'ssekit encodeEvent (one frame at a time)',
      verify,
      unavailable,
      run: () => {
        const { encodeEvent } = api()
        let bytes = 0
        for (const event of events) bytes += encodeEvent(event).byteLength
        return bytes
      },
    },
    {
      name: 'ssekit createEventStream (array source)',
      verify,
      unavailable,
      run: () => drain(api().createEventStream(events as Source, { heartbeat: false })),
    },
    {
      name: 'ssekit createEventStream (async generator source)',
      verify,
      unavailable,
      run: () => {
        async function* source() {
          for (const event of events) yield event
        }
        return drain(api().createEventStream(source(), { heartbeat: false }))
      },
    },
  ]
}

function table(fixture: Fixture, measured: Measured[]): string {
  const base = measured.find((entry) => entry.name === reference) as Measured
  const hono = measured.find((entry) => entry.name.startsWith('hono')) as Measured
  const rows = measured.map((entry) => {
    if (entry.unavailable || entry.roundTimes.length === 0) {
      return [entry.name, 'n/a', 'n/a', 'n/a', entry.unavailable ?? 'not measured']
    }
    const eventsPerSecond = summarize(
      entry.roundTimes.map((ns) => fixture.events.length / (ns / 1e9)),
    )
    const mibPerSecond = summarize(
      entry.roundTimes.map((ns) => fixture.bytes / 1048576 / (ns / 1e9)),
    )
    const vsSeed =
      entry === base ? '1.00x (reference)' : formatRatio(summarize(speedups(base, entry)))
    const vsHono =
      entry === hono
        ? '1.00x'
        : hono.unavailable
          ? 'n/a'
          : formatRatio(summarize(speedups(hono, entry)))
    return [entry.name, formatSummary(eventsPerSecond), formatSummary(mibPerSecond), vsSeed, vsHono]
  })
  return markdownTable(['contender', 'events/s', 'MiB/s', 'vs seed', 'vs Hono writeSSE'], rows)
}

function ratioCheck(
  claim: string,
  measured: Measured[],
  referenceName: (name: string) => boolean,
  oursName: string,
  minimum: number,
): Check {
  const base = measured.find((entry) => referenceName(entry.name))
  const ours = measured.find((entry) => entry.name === oursName)
  if (!base || !ours || ours.unavailable || base.unavailable) {
    return { claim, measured: ours?.unavailable ?? 'not measured', pass: undefined }
  }
  const ratio = summarize(speedups(base, ours))
  return { claim, measured: formatRatio(ratio), pass: ratio.median >= minimum }
}

export async function runEncode(options: BenchOptions): Promise<Section> {
  const rounds = bySize(options.scale, { full: 5, quick: 2, smoke: 1 })
  const budgetMs = bySize(options.scale, { full: 100, quick: 50, smoke: 1 })
  const blocks: string[] = []
  const checks: Check[] = []
  const notMeasured: Section['notMeasured'] = []
  for (const fixture of fixtures(options)) {
    options.log(`encode: ${fixture.name}`)
    const measured = await interleave(await contenders(fixture), {
      rounds,
      budgetMs,
      slowPassMs: 2000,
      log: options.log,
    })
    for (const entry of measured) {
      if (entry.unavailable)
        notMeasured.push({ name: `${entry.name} (${fixture.name})`, reason: entry.unavailable })
    }
    blocks.push(
      `#### ${fixture.name}: ${fixture.description} (${formatNumber(fixture.bytes / 1048576)} MiB of frames)`,
      table(fixture, measured),
    )
    const ours = 'ssekit createEventStream (array source)'
    checks.push(
      ratioCheck(
        `encoder >= 2x the seed writer (${fixture.name}, createEventStream)`,
        measured,
        (name) => name === reference,
        ours,
        2,
      ),
      ratioCheck(
        `encoder >= 5x Hono writeSSE (${fixture.name}, createEventStream)`,
        measured,
        (name) => name.startsWith('hono'),
        ours,
        5,
      ),
      ratioCheck(
        `encoder >= 2x the seed writer, both from an async generator (${fixture.name}, createEventStream)`,
        measured,
        (name) => name === asyncReference,
        'ssekit createEventStream (async generator source)',
        2,
      ),
    )
  }
  return {
    title: '2. Encoder',
    method:
      "In-process (mitata `measure`; a full GC before each contender's samples, outside the timed region, none between samples). Event objects are built up front with `data` already a string; one pass encodes all of them to bytes (Web-stream contenders are read to the end). Output byte counts are checked (a wrong result gets no figures). Contenders interleaved for several rounds; events/s is the median over rounds (min-max), ratios are per round against the seed writer and against Hono `writeSSE`. The async-generator row of ours is checked against the seed writer fed by the same async generator.",
    blocks,
    checks,
    notMeasured,
  }
}
