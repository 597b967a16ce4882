// Bundles the page's script (src/client/main.ts and @ssekit/fetch-client) for the browser into
// dist/public/client.js. Workspace packages resolve to their TypeScript sources (the `source`
// condition), so nothing else has to be built first.
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

/** Builds the browser bundle; returns the path written. */
export async function buildClient() {
  const outfile = fileURLToPath(new URL('../dist/public/client.js', import.meta.url))
  await build({
    entryPoints: [fileURLToPath(new URL('../src/client/main.ts', import.meta.url))],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    conditions: ['ssekit-source'],
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
  })
  return outfile
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildClient()
