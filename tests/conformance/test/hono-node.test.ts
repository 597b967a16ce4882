import { startHonoNodeServer } from '../fixtures/node-servers.ts'
import { runRoutePairConformance } from '../src/run-route-pair.ts'

runRoutePairConformance({ runtime: '@hono/node-server', start: () => startHonoNodeServer() })
