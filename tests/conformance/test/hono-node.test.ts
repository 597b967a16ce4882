import { afterAll, beforeAll } from 'vitest'
import { startHonoNodeServer } from '../fixtures/node-servers.ts'
import { type RunningServer, runSseConformance } from '../src/run-sse-conformance.ts'

let server: RunningServer
beforeAll(async () => {
  server = await startHonoNodeServer()
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
  name: 'Hono sse() on @hono/node-server, behind compress()',
  baseURL,
  prefix: '/hono',
  compression: true,
  supports,
})
runSseConformance({
  name: 'eventStreamResponse on @hono/node-server',
  baseURL,
  prefix: '/fetch',
  supports,
})
