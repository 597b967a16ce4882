/**
 * The parser workloads of issue 7 (workload 1), built exactly as the root `bench/` builds them
 * (same seeds, same bytes), plus two rows of our own: a non-ASCII multi-line stream and a long line
 * fed 4 bytes at a time (linearity). Chunks are cut before timing: we measure parsing, not slicing.
 */

export interface Fixture {
  name: string
  chunks: Uint8Array[]
  bytes: number
  events: number
  dataLength: number
  /** A row with a target (issue 7); the others are for information. */
  target: boolean
}

const encoder = new TextEncoder()
const words = ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog', 'token', 'stream']

/** The root bench's seeded generator (mulberry32), so both benches cut the same chunks. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

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
  for (let offset = 0; offset < bytes.length; ) {
    const size = min + Math.floor(random() * (max - min + 1))
    chunks.push(bytes.subarray(offset, offset + size))
    offset += size
  }
  return chunks
}

function build(parts: string[], dataLength: number) {
  return { bytes: encoder.encode(parts.join('')), dataLength }
}

function tokens(count: number) {
  const random = createRandom(7)
  const parts: string[] = []
  let dataLength = 0
  for (let index = 0; index < count; index++) {
    const data = `{"t":"${words[Math.floor(random() * words.length)]}"}`
    dataLength += data.length
    parts.push(`id: ${index}\ndata: ${data}\n\n`)
  }
  return build(parts, dataLength)
}

function json(count: number) {
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
  return build(parts, dataLength)
}

function multiline(count: number, lastWord: string) {
  const parts: string[] = []
  let dataLength = 0
  for (let index = 0; index < count; index++) {
    const lines = [
      `line one of event ${index}`,
      'line two: a colon inside',
      ' line three with a leading space',
      `line four, the last ${lastWord}`,
    ]
    dataLength += lines.join('\n').length
    parts.push(`event: log\n${lines.map((line) => `data: ${line}\n`).join('')}\n`)
  }
  return build(parts, dataLength)
}

function fixture(
  name: string,
  source: { bytes: Uint8Array; dataLength: number },
  chunks: Uint8Array[],
  events: number,
  target: boolean,
): Fixture {
  return { name, chunks, bytes: source.bytes.length, events, dataLength: source.dataLength, target }
}

/** The names of all fixtures, in the order the benches run them. */
export const fixtureNames = [
  '200k token events, 64 KiB chunks',
  '200k token events, random 1-100 B chunks',
  '20k 2 KB JSON events, 64 KiB chunks',
  '50k multi-line events, 64 KiB chunks',
  'one 1 MiB line, 1 KiB chunks',
  '50k multi-line events with "été", 64 KiB chunks',
  'one 1 MiB line, 4 B chunks',
]

/**
 * Builds the fixtures whose name contains `only` (all by default; exactly `only` when `exact`).
 * Benches build one at a time, so the heap holds one fixture while it is measured.
 */
export function fixtures(only = '', exact = false): Fixture[] {
  const wanted = (name: string) => (exact ? name === only : name.includes(only))
  const built: Fixture[] = []
  let token: ReturnType<typeof tokens> | undefined
  const tokenBytes = () => {
    token ??= tokens(200_000)
    return token
  }
  const long = () => ({
    bytes: encoder.encode(`data: ${'x'.repeat(1 << 20)}\n\n`),
    dataLength: 1 << 20,
  })
  const rows: [string, boolean, () => Fixture][] = [
    [
      '200k token events, 64 KiB chunks',
      true,
      () => fixture('', tokenBytes(), chunkFixed(tokenBytes().bytes, 65_536), 200_000, true),
    ],
    [
      '200k token events, random 1-100 B chunks',
      true,
      () => fixture('', tokenBytes(), chunkRandom(tokenBytes().bytes, 42, 1, 100), 200_000, true),
    ],
    [
      '20k 2 KB JSON events, 64 KiB chunks',
      true,
      () => {
        const source = json(20_000)
        return fixture('', source, chunkFixed(source.bytes, 65_536), 20_000, true)
      },
    ],
    [
      '50k multi-line events, 64 KiB chunks',
      true,
      () => {
        const source = multiline(50_000, 'one')
        return fixture('', source, chunkFixed(source.bytes, 65_536), 50_000, true)
      },
    ],
    [
      'one 1 MiB line, 1 KiB chunks',
      true,
      () => {
        const source = long()
        return fixture('', source, chunkFixed(source.bytes, 1024), 1, true)
      },
    ],
    [
      '50k multi-line events with "été", 64 KiB chunks',
      false,
      () => {
        const source = multiline(50_000, 'été')
        return fixture('', source, chunkFixed(source.bytes, 65_536), 50_000, false)
      },
    ],
    [
      'one 1 MiB line, 4 B chunks',
      false,
      () => {
        const source = long()
        return fixture('', source, chunkFixed(source.bytes, 4), 1, false)
      },
    ],
  ]
  for (const [name, target, make] of rows) {
    if (wanted(name)) built.push({ ...make(), name, target })
  }
  return built
}

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}
