import { startExpress } from '../fixtures/node-servers.ts'
import { fullSupport } from '../src/run-route-pair.ts'
import { runSseConformance } from '../src/run-sse-conformance.ts'

runSseConformance({
  name: 'sendEventStream on Express 5 with compression()',
  start: startExpress,
  compression: true,
  supports: fullSupport,
})
