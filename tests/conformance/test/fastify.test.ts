import { startFastify } from '../fixtures/node-servers.ts'
import { fullSupport } from '../src/run-route-pair.ts'
import { runSseConformance } from '../src/run-sse-conformance.ts'

runSseConformance({
  name: 'sendEventStream on Fastify (hijacked raw reply)',
  start: startFastify,
  supports: fullSupport,
})
