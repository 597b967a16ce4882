/**
 * Where the CPU goes in one of our hot paths: `npm run bench:profile -- <case>` (from bench/; it
 * builds first, so our code runs as plain JavaScript). Cases: `parse` (createParser on the 200k
 * token fixture in 64 KiB chunks), `parse-random` (the same in random 1-100 byte chunks),
 * `parse-multiline` (50k events of four `data:` lines, 64 KiB chunks), `parse-stream`
 * (parseEventStream on the token fixture), `encode-async` (createEventStream from an async
 * generator of 200k small events), `encode-array` (from an array). Runs the case for about 3 s
 * under the V8 sampling profiler (node:inspector, the same profile `node --cpu-prof` writes),
 * saves the .cpuprofile to the temp directory, and prints the functions with the most self time,
 * then the source lines of our packages with the most. Our hot paths are one function each once V8
 * has inlined their helpers, so the lines say more than the functions: V8 gives each sample the
 * position in the optimised code, and an inlined callee's lines count as its own. Those positions
 * are approximate: a sample taken just after a call returns (an `indexOf`, a `slice`) can land on
 * the next line.
 */

import { readFileSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { SourceMap } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadCore, loadParser, loadParseStream, type Source } from './_ours.ts'
import { createRandom } from './_stats.ts'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }
  hitCount?: number
  positionTicks?: { line: number; ticks: number }[]
}

/** The source map of a bundled `dist/*.js` file, read once. */
function sourceMapOf(url: string): SourceMap {
  let map = maps.get(url)
  if (!map) {
    map = new SourceMap(JSON.parse(readFileSync(new URL(`${url}.map`), 'utf8')))
    maps.set(url, map)
  }
  return map
}
const maps = new Map<string, SourceMap>()

/** The lines of a text, split once per key. */
function linesOf(key: string, read: () => string | undefined): string[] {
  let lines = splitLines.get(key)
  if (!lines) {
    lines = read()?.split('\n') ?? []
    splitLines.set(key, lines)
  }
  return lines
}
const splitLines = new Map<string, string[]>()

/** Maps a bundled `dist/*.js` position back to the TypeScript source it came from. */
function sourcePosition(url: string, line: number, column: number): string {
  const file = url.replace(/^.*\/(node_modules|packages|bench)\//, '$1/')
  if (!url.startsWith('file://') || !url.endsWith('.js')) return `${file}:${line + 1}`
  try {
    const entry = sourceMapOf(url).findEntry(line, column) as {
      originalSource?: string
      originalLine?: number
    }
    if (entry.originalSource === undefined || entry.originalLine === undefined)
      return `${file}:${line + 1}`
    const source = entry.originalSource.replace(/^.*\/(packages|bench)\//, '$1/')
    return `${source}:${entry.originalLine + 1}`
  } catch {
    return `${file}:${line + 1}`
  }
}

/**
 * The TypeScript line of our packages that line `line` (1-based) of a bundled `dist/*.js` file
 * came from, with its text; undefined for anything else.
 */
function sourceLine(url: string, line: number): { where: string; text: string } | undefined {
  if (!url.startsWith('file://') || !url.endsWith('.js')) return undefined
  try {
    const map = sourceMapOf(url)
    const generated = linesOf(url, () => readFileSync(new URL(url), 'utf8'))
    // The first mapping on the line: at its first character that is not indentation.
    const column = (generated[line - 1] ?? '').search(/\S|$/)
    const { originalSource, originalLine } = map.findEntry(line - 1, column) as {
      originalSource?: string
      originalLine?: number
    }
    if (originalSource === undefined || originalLine === undefined) return undefined
    if (!/\/packages\//.test(originalSource)) return undefined
    const payload = map.payload as { sources: string[]; sourcesContent?: (string | null)[] }
    const source = linesOf(
      originalSource,
      () => payload.sourcesContent?.[payload.sources.indexOf(originalSource)] ?? undefined,
    )
    return {
      where: `${originalSource.replace(/^.*\/packages\//, 'packages/')}:${originalLine + 1}`,
      text: source[originalLine]?.trim() ?? '',
    }
  } catch {
    return undefined
  }
}

const encoder = new TextEncoder()
const text = Array.from(
  { length: 200_000 },
  (_, index) => `id: ${index}\ndata: {"t":"word"}\n\n`,
).join('')
const bytes = encoder.encode(text)
const fixed: Uint8Array[] = []
for (let offset = 0; offset < bytes.length; offset += 65_536)
  fixed.push(bytes.subarray(offset, offset + 65_536))
const random = createRandom(42)
const small: Uint8Array[] = []
for (let offset = 0; offset < bytes.length; ) {
  const size = 1 + Math.floor(random() * 100)
  small.push(bytes.subarray(offset, offset + size))
  offset += size
}
const multiline: Uint8Array[] = []
const multilineBytes = encoder.encode(
  Array.from(
    { length: 50_000 },
    (_, index) =>
      `event: log\ndata: line one of event ${index}\ndata: line two: a colon inside\ndata:  line three with a leading space\ndata: line four, the last one\n\n`,
  ).join(''),
)
for (let offset = 0; offset < multilineBytes.length; offset += 65_536)
  multiline.push(multilineBytes.subarray(offset, offset + 65_536))
const events = Array.from({ length: 200_000 }, (_, index) => ({
  id: String(index),
  data: '{"t":"word"}',
}))

async function drain(stream: ReadableStream<Uint8Array>) {
  const reader = stream.getReader()
  for (;;) if ((await reader.read()).done) return
}

async function pass(name: string): Promise<void> {
  switch (name) {
    case 'parse':
    case 'parse-random':
    case 'parse-multiline': {
      const loaded = await loadParser()
      if (!loaded.ok) throw new Error(loaded.reason)
      let count = 0
      const parser = loaded.api.createParser({ onEvent: () => count++ })
      const chunks = name === 'parse' ? fixed : name === 'parse-random' ? small : multiline
      for (const chunk of chunks) parser.feed(chunk)
      return
    }
    case 'parse-stream': {
      const loaded = await loadParseStream()
      if (!loaded.ok) throw new Error(loaded.reason)
      let index = 0
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          const chunk = fixed[index++]
          if (chunk) controller.enqueue(chunk)
          else controller.close()
        },
      })
      for await (const _ of loaded.api.parseEventStream(body)) {
      }
      return
    }
    case 'encode-async':
    case 'encode-array': {
      const loaded = await loadCore()
      if (!loaded.ok) throw new Error(loaded.reason)
      async function* generate() {
        for (const event of events) yield event
      }
      const source: Source = name === 'encode-array' ? events : generate()
      await drain(loaded.api.createEventStream(source, { heartbeat: false }))
      return
    }
    default:
      throw new TypeError(
        `unknown case ${name}: parse, parse-random, parse-multiline, parse-stream, encode-async, encode-array`,
      )
  }
}

const name = process.argv[2] ?? 'parse'
await pass(name)
const session = new Session()
session.connect()
await session.post('Profiler.enable')
await session.post('Profiler.setSamplingInterval', { interval: 100 })
await session.post('Profiler.start')
const deadline = performance.now() + 3000
let passes = 0
while (performance.now() < deadline && passes < 1000) {
  await pass(name)
  passes++
}
const { profile } = (await session.post('Profiler.stop')) as unknown as {
  profile: { nodes: ProfileNode[]; samples: number[] }
}
session.disconnect()
const path = join(tmpdir(), `ssekit-${name}-${process.pid}.cpuprofile`)
writeFileSync(path, JSON.stringify(profile))
const self = new Map<string, number>()
let total = 0
for (const node of profile.nodes) {
  const hits = node.hitCount ?? 0
  total += hits
  const { functionName, url, lineNumber, columnNumber } = node.callFrame
  const key = `${functionName || '(anonymous)'} ${sourcePosition(url, lineNumber, columnNumber)}`
  self.set(key, (self.get(key) ?? 0) + hits)
}
console.log(`${name}: ${passes} passes in 3 s; profile ${path}`)
console.log('| self % | function |')
console.log('| ---: | --- |')
for (const [key, hits] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
  console.log(`| ${((hits / total) * 100).toFixed(1)} | ${key} |`)
}
const lines = new Map<string, { text: string; ticks: number }>()
for (const node of profile.nodes) {
  for (const { line, ticks } of node.positionTicks ?? []) {
    const source = sourceLine(node.callFrame.url, line)
    if (!source) continue
    const entry = lines.get(source.where) ?? { text: source.text, ticks: 0 }
    entry.ticks += ticks
    lines.set(source.where, entry)
  }
}
if (lines.size > 0) {
  console.log('')
  console.log('| self % | line of our code | source |')
  console.log('| ---: | --- | --- |')
  for (const [where, { text, ticks }] of [...lines]
    .sort((a, b) => b[1].ticks - a[1].ticks)
    .slice(0, 12)) {
    const code = text.length > 90 ? `${text.slice(0, 87)}...` : text
    console.log(
      `| ${((ticks / total) * 100).toFixed(1)} | ${where} | \`${code.replaceAll('|', '\\|')}\` |`,
    )
  }
}
