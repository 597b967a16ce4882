/**
 * Bundle size of each entry, minified with esbuild (ESM, browser target) and gzipped at level 9,
 * @ssekit/core's SseError included. Run from packages/fetch-client: `npx tsx bench/size.ts`.
 */
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'

const entries: [string, string][] = [
  ['parser: createParser', `export { createParser } from './src/parse.ts'`],
  [
    'parseEventStream + EventStreamParserStream',
    `export { parseEventStream, EventStreamParserStream } from './src/parse-stream.ts'`,
  ],
  ['client: fetchEventStream', `export { fetchEventStream } from './src/fetch-event-stream.ts'`],
  ['EventSource (with the client)', `export { EventSource } from './src/event-source.ts'`],
  ['everything (index)', `export * from './src/index.ts'`],
]

console.log('| entry | minified B | gzip -9 B |')
console.log('| --- | --- | --- |')
for (const [name, contents] of entries) {
  const result = await build({
    stdin: { contents, resolveDir: process.cwd(), loader: 'ts', sourcefile: 'entry.ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['ssekit-source'],
    write: false,
  })
  const code = result.outputFiles[0]?.contents ?? new Uint8Array()
  console.log(`| ${name} | ${code.length} | ${gzipSync(code, { level: 9 }).length} |`)
}
