import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** Builds the demo page's browser bundle once, as `npm start` does before serving it. */
export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build.mjs'], {
    cwd: fileURLToPath(new URL('../../../examples/demo/', import.meta.url)),
    stdio: 'inherit',
    timeout: 60_000,
  })
}
