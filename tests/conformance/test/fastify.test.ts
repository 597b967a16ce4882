import { startFastify } from '../fixtures/node-servers.ts'
import { runSseConformance } from '../src/run-sse-conformance.ts'

runSseConformance({
  name: 'sendEventStream on Fastify (hijacked raw reply)',
  start: startFastify,
  supports: {
    lastEventIdQuery: true,
    clientAbort: true,
    boundedProducer: true,
    heartbeat: true,
    everyDisconnectNoticed: true,
  },
})
