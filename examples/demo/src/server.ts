/**
 * The ssekit demo: `npm start` at the repository root, then open http://localhost:3000.
 *
 * Environment:
 * - `PORT` (default 3000) and `HOST` (default 127.0.0.1; `0.0.0.0` to serve your network);
 * - `REDIS_URL`: use the Redis hub, so several instances share chat streams;
 * - `DEMO_TICK_MS` (default 500) and `DEMO_TOKEN_MS` (default 45): the pace of ticks and tokens.
 */
import { createServer } from 'node:http'
import { createHub, type Hub } from '@ssekit/core'
import { closeEventStreams } from '@ssekit/node'
import { createRedisHub } from '@ssekit/redis'
import { createDemoApp } from './app.ts'
import { Figures } from './figures.ts'
import { createLogger } from './log.ts'

const port = integerFromEnvironment('PORT', 3000)
const host = process.env['HOST'] || '127.0.0.1'
const redisUrl = process.env['REDIS_URL'] || undefined
const instance = `demo:${port}`
const log = createLogger(instance)
const figures = new Figures(instance, redisUrl === undefined ? 'memory' : 'redis', log)

// Answers stay replayable for ten minutes: long enough to reload a page or switch instance.
const history = { maxEvents: 2000, maxAge: 10 * 60_000 }
const hub: Hub =
  redisUrl === undefined
    ? createHub({ history, ...figures.hubHooks() })
    : await createRedisHub({
        url: redisUrl,
        prefix: 'ssekit-demo:',
        history,
        ...figures.hubHooks(),
        onBackendError: (error) => log.warn({ msg: 'redis error', error: error.message }),
      })
figures.hub = hub

const app = createDemoApp({
  hub,
  figures,
  log,
  tickMs: integerFromEnvironment('DEMO_TICK_MS', 500),
  tokenMs: integerFromEnvironment('DEMO_TOKEN_MS', 45),
})
const server = createServer(app.handle)
// Slow-loris guard for ordinary requests; event streams turn their own socket timeout off.
server.headersTimeout = 10_000
server.requestTimeout = 30_000

server.listen(port, host, () => {
  const shown = host === '127.0.0.1' || host === '0.0.0.0' ? 'localhost' : host
  log.info({ msg: 'listening', url: `http://${host}:${port}`, hub: figures.hubKind })
  process.stderr.write(
    `\n  ssekit demo on http://${shown}:${port}  (hub: ${figures.hubKind}${redisUrl ? ` at ${redisUrl}` : ''})\n\n`,
  )
})

let stopping = false
async function shutdown(signal: string): Promise<void> {
  if (stopping) return
  stopping = true
  log.info({ msg: 'shutting down', signal })
  server.close()
  app.stop()
  // Every client gets a jittered `retry:` and a clean end, so they come back spread out.
  const result = await closeEventStreams({ graceMs: 3000 })
  log.info({ msg: 'streams closed', ...result })
  await hub.close()
  server.closeAllConnections()
  process.exit(0)
}
process.once('SIGINT', () => void shutdown('SIGINT'))
process.once('SIGTERM', () => void shutdown('SIGTERM'))

function integerFromEnvironment(name: string, fallback: number): number {
  const value = process.env[name]
  if (value === undefined || value === '') return fallback
  const number = Number(value)
  if (!Number.isSafeInteger(number) || number < 0) {
    throw new TypeError(`${name} must be a non-negative integer, got ${JSON.stringify(value)}`)
  }
  return number
}
