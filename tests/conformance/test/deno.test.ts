import { runRoutePairConformance } from '../src/run-route-pair.ts'
import { startBundledFixture, startDeno } from '../src/runtimes.ts'

runRoutePairConformance({
  runtime: 'Deno',
  start: () => startBundledFixture('deno-entry.ts', startDeno),
})
