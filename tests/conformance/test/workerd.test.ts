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
const supports = { lastEventIdQuery: true, clientAbort: true, boundedProducer: true }

runSseConformance({
  name: 'Hono sse() on workerd, behind compress()',
  baseURL,
  prefix: '/hono',
  compression: true,
  supports,
})
runSseConformance({ name: 'eventStreamResponse on workerd', baseURL, prefix: '/fetch', supports })
