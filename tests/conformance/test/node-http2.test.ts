import { startNodeHttp2 } from '../fixtures/node-servers.ts'
import { fullSupport } from '../src/run-route-pair.ts'
import { runSseConformance } from '../src/run-sse-conformance.ts'

runSseConformance({
  name: 'sendEventStream on node:http2 (h2c)',
  start: startNodeHttp2,
  protocol: 'h2c',
  supports: fullSupport,
})
