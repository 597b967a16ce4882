import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createHttp1Client } from '../src/_client.ts'
import { runSseConformance } from '../src/run-sse-conformance.ts'
import { bundleFixture, type RuntimeProcess, startBun } from '../src/runtimes.ts'

let bundle: Awaited<ReturnType<typeof bundleFixture>>
let bun: RuntimeProcess
beforeAll(async () => {
  bundle = await bundleFixture('bun-entry.ts')
  bun = await startBun(bundle.file)
})
afterAll(async () => {
  await bun?.stop()
  await bundle?.remove()
})
const baseURL = () => `http://127.0.0.1:${bun.ready.port}`
const supports = {
  lastEventIdQuery: true,
  clientAbort: true,
  boundedProducer: true,
  heartbeat: true,
  everyDisconnectNoticed: true,
}

runSseConformance({
  name: 'Hono sse() on Bun, behind compress()',
  baseURL,
  prefix: '/hono',
  compression: true,
  supports,
})
runSseConformance({ name: 'eventStreamResponse on Bun', baseURL, prefix: '/fetch', supports })

// oven-sh/bun #27479: Bun closes a connection after `idleTimeout` seconds without bytes (10 by
// default), before a 15 s heartbeat. The fixture's second server uses idleTimeout: 2 so the trap
// shows in seconds; the stream below stays silent for 6 s (Bun cuts an idle 2 s connection at ~4 s).
describe.concurrent('Bun idleTimeout (oven-sh/bun #27479)', () => {
  const quiet = 'quiet=6000'
  const readQuietStream = async (path: string) => {
    const client = createHttp1Client(`http://127.0.0.1:${bun.ready.idlePort}`)
    try {
      const stream = await client.open(`${path}/sse/late?key=bun-idle-${path.slice(1)}&${quiet}`)
      expect(stream.status).toBe(200)
      return await stream.readToEnd(`${path} stream ends`, 12_000)
    } finally {
      await client.close()
    }
  }

  test('sse() lifts the idle timeout for its request: a silent stream survives it', async () => {
    expect(await readQuietStream('/hono')).toContain('data: late')
  })

  test('a plain handler that calls server.timeout(request, 0) survives it too (the documented recipe)', async () => {
    expect(await readQuietStream('/fetch-no-timeout')).toContain('data: late')
  })

  test('the trap is real: a plain handler without the recipe is cut before its event', async () => {
    expect(await readQuietStream('/fetch').catch((error: Error) => error.message)).not.toContain(
      'data: late',
    )
  })
})
