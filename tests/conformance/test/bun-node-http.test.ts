import { fullSupport } from '../src/run-route-pair.ts'
import { runSseConformance } from '../src/run-sse-conformance.ts'
import { startBun, startBundledFixture } from '../src/runtimes.ts'

runSseConformance({
  name: 'sendEventStream on node:http in Bun',
  start: async () => {
    const bun = await startBundledFixture('node-http-entry.ts', startBun)
    return { baseURL: bun.baseURL, close: bun.close }
  },
  supports: fullSupport,
})
