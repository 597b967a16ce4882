import { fullSupport } from '../src/run-route-pair.ts'
import { runSseConformance } from '../src/run-sse-conformance.ts'
import { startBundledFixture, startDeno } from '../src/runtimes.ts'

runSseConformance({
  name: 'sendEventStream on node:http in Deno',
  start: async () => {
    const deno = await startBundledFixture('node-http-entry.ts', startDeno)
    return { baseURL: deno.baseURL, close: deno.close }
  },
  supports: fullSupport,
})
