import { afterAll, beforeAll } from 'vitest'
import { runSseConformance } from '../src/run-sse-conformance.ts'
import { bundleFixture, startWorkerd } from '../src/runtimes.ts'

let bundle: Awaited<ReturnType<typeof bundleFixture>>
let workerd: Awaited<ReturnType<typeof startWorkerd>>
beforeAll(async () => {
  bundle = await bundleFixture('workerd-entry.ts')
  workerd = await startWorkerd(bundle.file)
})
afterAll(async () => {
  await workerd?.stop()
  await bundle?.remove()
})
const baseURL = () => workerd.baseURL
// Named gaps on workerd 1.20260426 (miniflare 4.20260426):
// - heartbeat: core's one shared heartbeat timer is armed inside whichever request started it, and
//   workerd drops a request's timers when that request ends, so the other streams' heartbeats stop.
//   Reported to core; the check fails here when enabled.
// - everyDisconnectNoticed: with 20 clients leaving at once, workerd never aborts `request.signal`
//   (and never cancels the body) for a few of them, 0 to 5 in 200; a bare worker without ssekit
//   shows the same (595 of 600). Those producers run until the Worker is evicted.
const supports = {
  lastEventIdQuery: true,
  clientAbort: true,
  boundedProducer: true,
  heartbeat: false,
  everyDisconnectNoticed: false,
}

runSseConformance({
  name: 'Hono sse() on workerd, behind compress()',
  baseURL,
  prefix: '/hono',
  compression: true,
  supports,
})
runSseConformance({ name: 'eventStreamResponse on workerd', baseURL, prefix: '/fetch', supports })
