import { afterAll, beforeAll } from 'vitest'
import { startHonoNodeServer } from '../fixtures/node-servers.ts'
import { type RunningServer, runSseConformance } from '../src/run-sse-conformance.ts'

// honojs/hono #4041: streamSSE's Transfer-Encoding and Connection headers break HTTP/2 here.
let server: RunningServer
beforeAll(async () => {
  server = await startHonoNodeServer({ http2: true })
})
afterAll(async () => {
  await server?.close()
})
const baseURL = () => server.baseURL
const supports = {
  lastEventIdQuery: true,
  clientAbort: true,
  boundedProducer: true,
  heartbeat: true,
  everyDisconnectNoticed: true,
}

runSseConformance({
  name: 'Hono sse() on @hono/node-server over h2c, behind compress()',
  baseURL,
  prefix: '/hono',
  protocol: 'h2c',
  compression: true,
  supports,
})
runSseConformance({
  name: 'eventStreamResponse on @hono/node-server over h2c',
  baseURL,
  prefix: '/fetch',
  protocol: 'h2c',
  supports,
})
