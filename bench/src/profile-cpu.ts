/**
 * Where the CPU goes in one of our hot paths: `npm run bench:profile -- <case>` (from bench/; it
 * builds first, so our code runs as plain JavaScript). Cases: `parse` (createParser on the 200k
 * token fixture in 64 KiB chunks), `parse-random` (the same in random 1-100 byte chunks),
 * `parse-stream` (parseEventStream on it), `encode-async` (createEventStream from an async
 * generator of 200k small events), `encode-array` (from an array). Runs the case for about 3 s
 * under the V8 sampling profiler (node:inspector, the same profile `node --cpu-prof` writes),
 * saves the .cpuprofile to the temp directory, and prints the functions with the most self time.
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
}

/** Maps a bundled `dist/*.js` position back to the TypeScript source it came from. */
function sourcePosition(url: string, line: number, column: number): string {
  const file = url.replace(/^.*\/(node_modules|packages|bench)\//, '$1/')
  if (!url.startsWith('file://') || !url.endsWith('.js')) return `${file}:${line + 1}`
  try {
    const map =
      maps.get(url) ?? new SourceMap(JSON.parse(readFileSync(new URL(`${url}.map`), 'utf8')))
    maps.set(url, map)
    const entry = map.findEntry(line, column) as { originalSource?: string; originalLine?: number }
    if (entry.originalSource === undefined || entry.originalLine === undefined)
      return `${file}:${line + 1}`
    const source = entry.originalSource.replace(/^.*\/(packages|bench)\//, '$1/')
    return `${source}:${entry.originalLine + 1}`
  } catch {
    return `${file}:${line + 1}`
  }
}
const maps = new Map<string, SourceMap>()

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
    case 'parse-random': {
      const loaded = await loadParser()
      if (!loaded.ok) throw new Error(loaded.reason)
      let count = 0
      const parser = loaded.api.createParser({ onEvent: () => count++ })
      for (const chunk of name === 'parse' ? fixed : small) parser.feed(chunk)
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
        `unknown case ${name}: parse, parse-random, parse-stream, encode-async, encode-array`,
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
