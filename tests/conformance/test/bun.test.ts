import { describe, expect, test } from 'vitest'
import { createHttp1Client } from '../src/_client.ts'
import { runRoutePairConformance } from '../src/run-route-pair.ts'
import { startBun, startBundledFixture } from '../src/runtimes.ts'

const bun = runRoutePairConformance({
  runtime: 'Bun',
  start: () => startBundledFixture('bun-entry.ts', startBun),
})

// oven-sh/bun #27479: Bun closes a connection after `idleTimeout` seconds without bytes (10 by
// default), before a 15 s heartbeat. The fixture's second server uses idleTimeout: 2 so the trap
// shows in seconds; the stream below stays silent for 6 s (Bun cuts an idle 2 s connection at ~4 s).
describe.concurrent('Bun idleTimeout (oven-sh/bun #27479)', () => {
  const quiet = 'quiet=6000'
  const readQuietStream = async (path: string) => {
    const client = createHttp1Client(`http://127.0.0.1:${bun().ready.idlePort}`)
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
