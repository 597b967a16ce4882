import { fullSupport } from '../src/run-route-pair.ts'
import { runSseConformance } from '../src/run-sse-conformance.ts'
import { startBun, startBundledFixture, startDeno } from '../src/runtimes.ts'

// `sendEventStream` on the node:http of Deno (which takes the socket fast path) and of Bun (which
// goes through response.write()).
for (const [runtime, start] of [
  ['Deno', startDeno],
  ['Bun', startBun],
] as const) {
  runSseConformance({
    name: `sendEventStream on node:http in ${runtime}`,
    start: async () => {
      const process = await startBundledFixture('node-http-entry.ts', start)
      return { baseURL: process.baseURL, close: process.close }
    },
    supports: fullSupport,
  })
}
