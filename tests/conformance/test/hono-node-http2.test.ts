import { startHonoNodeServer } from '../fixtures/node-servers.ts'
import { runRoutePairConformance } from '../src/run-route-pair.ts'

// honojs/hono #4041: streamSSE's Transfer-Encoding and Connection headers break HTTP/2 here.
runRoutePairConformance({
  runtime: '@hono/node-server over h2c',
  start: () => startHonoNodeServer({ http2: true }),
  protocol: 'h2c',
})
