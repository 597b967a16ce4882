/**
 * Workload 7: bundle sizes. Run with `npm run bench -- --only=bundle`.
 *
 * Method: each entry is bundled by esbuild as an ES module (minified, tree-shaken, our packages
 * from their TypeScript sources through the `source` condition, Node built-ins and each package's
 * peer or runtime dependency that is not SSE code left external), then gzipped at level 9. An
 * entry is `export { names } from 'package'`, so what is measured is what an app importing those
 * names ships. Sizes are deterministic: one run, no rounds.
 */
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { type BenchOptions, type Check, errorMessage, type Section } from './_report.ts'
import { formatNumber, markdownTable } from './_stats.ts'
import { packageVersion } from './_versions.ts'

interface Entry {
  name: string
  code: string
  external?: string[] | undefined
  /** The budget in gzipped bytes, when an issue sets one. */
  budget?: { bytes: number; claim: string } | undefined
}

const entries: Entry[] = [
  { name: '@ssekit/core (encodeEvent)', code: `export { encodeEvent } from '@ssekit/core'` },
  {
    name: '@ssekit/core (createEventStream, eventStreamResponse)',
    code: `export { createEventStream, eventStreamResponse } from '@ssekit/core'`,
  },
  { name: '@ssekit/core (createHub)', code: `export { createHub } from '@ssekit/core'` },
  { name: '@ssekit/core (whole entry)', code: `export * from '@ssekit/core'` },
  { name: '@ssekit/core/adapter (createEventPump)', code: `export * from '@ssekit/core/adapter'` },
  { name: '@ssekit/node (whole entry, core included)', code: `export * from '@ssekit/node'` },
  {
    name: '@ssekit/hono (whole entry, core included; hono external)',
    code: `export * from '@ssekit/hono'`,
    external: ['hono', 'hono/*'],
  },
  {
    name: '@ssekit/redis (whole entry, core included; ioredis external)',
    code: `export * from '@ssekit/redis'`,
    external: ['ioredis'],
  },
  {
    name: '@ssekit/fetch-client/parse (createParser)',
    code: `export { createParser } from '@ssekit/fetch-client/parse'`,
    budget: { bytes: 1536, claim: 'parser entry <= 1.5 KiB (1,536 B) gzipped (issue 3)' },
  },
  {
    name: '@ssekit/fetch-client (createParser, parseEventStream)',
    code: `export { createParser, parseEventStream } from '@ssekit/fetch-client'`,
  },
  {
    name: '@ssekit/fetch-client (fetchEventStream)',
    code: `export { fetchEventStream } from '@ssekit/fetch-client'`,
    budget: { bytes: 4096, claim: 'fetch client <= 4 KiB (4,096 B) gzipped (issue 3)' },
  },
  { name: '@ssekit/fetch-client (whole entry)', code: `export * from '@ssekit/fetch-client'` },
  {
    name: `eventsource-parser ${packageVersion('eventsource-parser')} (createParser)`,
    code: `export { createParser } from 'eventsource-parser'`,
  },
  {
    name: `eventsource-parser ${packageVersion('eventsource-parser')}/stream (EventSourceParserStream)`,
    code: `export { EventSourceParserStream } from 'eventsource-parser/stream'`,
  },
  {
    name: `@microsoft/fetch-event-source ${packageVersion('@microsoft/fetch-event-source')} (fetchEventSource)`,
    code: `export { fetchEventSource } from '@microsoft/fetch-event-source'`,
  },
  {
    name: `fetch-event-stream ${packageVersion('fetch-event-stream')} (events, stream)`,
    code: `export { events, stream } from 'fetch-event-stream'`,
  },
  {
    name: `hono ${packageVersion('hono')}/streaming (streamSSE, with the hono internals it imports)`,
    code: `export { streamSSE } from 'hono/streaming'`,
  },
  {
    name: `better-sse ${packageVersion('better-sse')} (whole entry)`,
    code: `export * from 'better-sse'`,
  },
]

async function measure(entry: Entry): Promise<{ minified: number; gzipped: number }> {
  const result = await build({
    stdin: {
      contents: entry.code,
      resolveDir: new URL('.', import.meta.url).pathname,
      loader: 'ts',
    },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    target: 'es2022',
    mainFields: ['module', 'main'],
    conditions: ['ssekit-source'],
    external: entry.external ?? [],
    write: false,
    logLevel: 'silent',
  })
  const output = result.outputFiles[0]
  if (!output) throw new Error('esbuild produced no output')
  return {
    minified: output.contents.length,
    gzipped: gzipSync(output.contents, { level: 9 }).length,
  }
}

export async function runBundleSize(options: BenchOptions): Promise<Section> {
  const rows: string[][] = []
  const checks: Check[] = []
  const notMeasured: Section['notMeasured'] = []
  for (const entry of entries) {
    try {
      const size = await measure(entry)
      rows.push([entry.name, formatNumber(size.minified), formatNumber(size.gzipped)])
      if (entry.budget) {
        checks.push({
          claim: entry.budget.claim,
          measured: `${formatNumber(size.gzipped)} B gzipped`,
          pass: size.gzipped <= entry.budget.bytes,
        })
      }
    } catch (error) {
      const reason = errorMessage(error).split('\n')[0] ?? ''
      rows.push([entry.name, 'n/a', `does not bundle yet: ${reason.slice(0, 120)}`])
      notMeasured.push({ name: entry.name, reason })
      if (entry.budget)
        checks.push({ claim: entry.budget.claim, measured: 'does not bundle yet', pass: undefined })
    }
  }
  options.log(`bundle: ${entries.length} entries`)
  return {
    title: '7. Bundle sizes',
    method:
      'esbuild, ES module, minified and tree-shaken, then gzip level 9; bytes. Our packages are bundled from source (the `ssekit-source` export condition); Node built-ins and non-SSE dependencies (hono for our Hono adapter, ioredis) stay external. Deterministic: one run.',
    blocks: [markdownTable(['entry', 'minified B', 'gzipped B'], rows)],
    checks,
    notMeasured,
  }
}
