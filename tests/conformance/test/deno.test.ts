import { afterAll, beforeAll } from 'vitest'
import { runSseConformance } from '../src/run-sse-conformance.ts'
import { bundleFixture, type RuntimeProcess, startDeno } from '../src/runtimes.ts'

let bundle: Awaited<ReturnType<typeof bundleFixture>>
let deno: RuntimeProcess
beforeAll(async () => {
  bundle = await bundleFixture('deno-entry.ts')
  deno = await startDeno(bundle.file)
})
afterAll(async () => {
  await deno?.stop()
  await bundle?.remove()
})
const baseURL = () => `http://127.0.0.1:${deno.ready.port}`
const supports = {
  lastEventIdQuery: true,
  clientAbort: true,
  boundedProducer: true,
  heartbeat: true,
  everyDisconnectNoticed: true,
}

runSseConformance({
  name: 'Hono sse() on Deno, behind compress()',
  baseURL,
  prefix: '/hono',
  compression: true,
  supports,
})
runSseConformance({ name: 'eventStreamResponse on Deno', baseURL, prefix: '/fetch', supports })
