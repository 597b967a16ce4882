/**
 * Compiles the bench to plain JavaScript in `dist/` before it runs (`npm run bench` does this
 * first). Why: running TypeScript through a loader such as tsx compiles with esbuild's `keepNames`,
 * which wraps every function in a `__name()` call that gives each closure its own property store;
 * that added about 2.8 KB per idle connection and CPU per closure to our packages (and not to the
 * peers, which load as JavaScript from node_modules). Here our packages are bundled from their
 * TypeScript sources (the `ssekit-source` export condition) without `keepNames`, as `tsc` would emit
 * them, and every other package stays external and loads from node_modules as published.
 */
import { build } from 'esbuild'

const entries = ['run', '_server', '_load-client', 'scale', 'profile-idle', 'profile-cpu']

await build({
  entryPoints: entries.map((name) => new URL(`./${name}.ts`, import.meta.url).pathname),
  outdir: new URL('../dist/', import.meta.url).pathname,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  conditions: ['ssekit-source'],
  sourcemap: 'linked',
  logLevel: 'warning',
  plugins: [
    {
      name: 'external-except-ssekit',
      setup(builder) {
        builder.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path.startsWith('@ssekit/') ? undefined : { path: args.path, external: true },
        )
      },
    },
  ],
})
