import { startNodeHttp } from '../fixtures/node-servers.ts'
import { runSseConformance } from '../src/run-sse-conformance.ts'

runSseConformance({
  name: 'sendEventStream on node:http',
  start: startNodeHttp,
  supports: {
    lastEventIdQuery: true,
    clientAbort: true,
    boundedProducer: true,
    heartbeat: true,
    everyDisconnectNoticed: true,
  },
})
