// Bundles src/worker.ts to dist/worker.js for miniflare (which runs JavaScript, not TypeScript).
// Workspace packages resolve to their TypeScript sources, so nothing else needs building first.
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { workerFile } from './worker-options.mjs'

await build({
  entryPoints: [fileURLToPath(new URL('../src/worker.ts', import.meta.url))],
  outfile: workerFile,
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  conditions: ['ssekit-source', 'workerd', 'worker'],
  mainFields: ['module', 'main'],
  logLevel: 'warning',
})
