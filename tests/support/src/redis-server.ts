import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './free-port.ts'
import { withTimeout } from './with-timeout.ts'

/**
 * A real `redis-server` of the test's own, on a free loopback port, with its data in a temp
 * directory. `await using` stops it.
 *
 * @example
 * ```ts
 * await using redis = await startRedisServer()
 * const hub = createRedisHub({ url: redis.url })
 * ```
 */
export interface RedisServer extends AsyncDisposable {
  readonly port: number
  /** `redis://127.0.0.1:<port>` */
  readonly url: string
  /** SIGKILL, as a crash: only what `appendfsync always` already wrote survives. */
  kill(): Promise<void>
  /** SIGSTOP: the process stays, the port accepts connections and answers nothing. */
  freeze(): void
  /** SIGCONT after {@link RedisServer.freeze}. */
  thaw(): void
  /** Starts it again on the same port and directory (with `durable`, the AOF brings the data back). */
  restart(): Promise<void>
  /** Stops it (SIGTERM) and removes its directory. */
  stop(): Promise<void>
}

/**
 * How {@link startRedisServer} configures the server.
 *
 * @example
 * ```ts
 * const options: RedisServerOptions = { durable: false }
 * ```
 */
export interface RedisServerOptions {
  /**
   * `appendonly yes` with `appendfsync always`, so every acknowledged write survives SIGKILL and
   * {@link RedisServer.restart}. Default `true`; benchmarks and tests that never restart pass
   * `false`, Redis's own default.
   */
  durable?: boolean | undefined
  /**
   * `stream-node-max-entries`; Redis's own default (100) when unset. Small nodes (4) make
   * `MAXLEN ~ 5` trim close to 5 entries, as history tests need.
   */
  streamNodeMaxEntries?: number | undefined
}

const startMs = 10_000
const stopMs = 10_000

/**
 * Starts a real `redis-server` (from `PATH`) on a free 127.0.0.1 port and resolves once it accepts
 * connections; rejects with its output if it exits first or is not ready within 10 s.
 *
 * @example
 * ```ts
 * const redis = await startRedisServer({ streamNodeMaxEntries: 4 })
 * try {
 *   await redis.kill()
 *   await redis.restart()
 * } finally {
 *   await redis.stop()
 * }
 * ```
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const durable = options.durable ?? true
  const directory = await mkdtemp(join(tmpdir(), 'ssekit-redis-'))
  const port = await freePort()
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    directory,
    '--save',
    '',
    '--appendonly',
    durable ? 'yes' : 'no',
    '--appendfsync',
    'always',
    '--daemonize',
    'no',
  ]
  if (options.streamNodeMaxEntries !== undefined) {
    args.push('--stream-node-max-entries', String(options.streamNodeMaxEntries))
  }
  let child: ChildProcess | undefined

  const launch = () =>
    new Promise<void>((resolve, reject) => {
      const redis = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] })
      child = redis
      let output = ''
      const settle = (error?: Error) => {
        clearTimeout(timer)
        redis.stdout?.off('data', onData)
        redis.stderr?.off('data', onData)
        redis.off('exit', onExit)
        redis.off('error', onError)
        if (error === undefined) resolve()
        else reject(error)
      }
      const timer = setTimeout(() => {
        redis.kill('SIGKILL')
        settle(new Error(`redis-server did not start within ${startMs} ms:\n${output}`))
      }, startMs)
      // Printed once the port accepts connections.
      const onData = (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes('Ready to accept connections')) settle()
      }
      const onExit = (code: number | null) =>
        settle(new Error(`redis-server exited with ${code}:\n${output}`))
      const onError = (error: Error) => settle(error)
      redis.stdout?.on('data', onData)
      redis.stderr?.on('data', onData)
      redis.once('exit', onExit)
      redis.once('error', onError)
    })

  const halt = async (signal: NodeJS.Signals) => {
    const redis = child
    child = undefined
    if (redis === undefined || redis.exitCode !== null || redis.signalCode !== null) return
    const exited = new Promise((resolve) => redis.once('exit', resolve))
    // A frozen process would never act on SIGTERM.
    redis.kill('SIGCONT')
    redis.kill(signal)
    await withTimeout(exited, stopMs, `redis-server exits on ${signal}`)
  }

  const stop = async () => {
    await halt('SIGTERM')
    await rm(directory, { recursive: true, force: true })
  }

  try {
    await launch()
  } catch (error) {
    await rm(directory, { recursive: true, force: true })
    throw error
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill: () => halt('SIGKILL'),
    freeze: () => void child?.kill('SIGSTOP'),
    thaw: () => void child?.kill('SIGCONT'),
    restart: launch,
    stop,
    [Symbol.asyncDispose]: stop,
  }
}
