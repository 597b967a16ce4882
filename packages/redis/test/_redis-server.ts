import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A real `redis-server` of our own, on a free loopback port, with its data in a temp dir. */
export interface RedisServer {
  readonly port: number
  readonly url: string
  /** SIGKILL, as a crash: nothing is flushed beyond what `appendfsync always` already wrote. */
  kill(): Promise<void>
  /** Starts it again on the same port and directory (the AOF brings the streams back). */
  restart(): Promise<void>
  /** Stops it and removes its directory. */
  stop(): Promise<void>
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/**
 * Tests use the defaults; benchmarks pass `{ durable: false, smallStreamNodes: false }`, Redis's
 * own defaults.
 * @param options.durable - `appendfsync always`, so every acknowledged write survives SIGKILL.
 * @param options.smallStreamNodes - 4 entries per stream node, so `MAXLEN ~ 5` trims close to 5
 *   entries, as the history tests need.
 */
export async function startRedisServer(
  options: { durable?: boolean; smallStreamNodes?: boolean } = {},
): Promise<RedisServer> {
  const durable = options.durable ?? true
  const smallStreamNodes = options.smallStreamNodes ?? true
  const dir = await mkdtemp(join(tmpdir(), 'ssekit-redis-'))
  const port = await freePort()
  let child: ChildProcess | undefined

  const launch = () =>
    new Promise<void>((resolve, reject) => {
      const process = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--dir',
          dir,
          '--save',
          '',
          '--appendonly',
          durable ? 'yes' : 'no',
          '--appendfsync',
          'always',
          '--stream-node-max-entries',
          smallStreamNodes ? '4' : '100',
          '--daemonize',
          'no',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      )
      child = process
      let output = ''
      const timer = setTimeout(() => {
        process.kill('SIGKILL')
        reject(new Error(`redis-server did not start within 10 s:\n${output}`))
      }, 10_000)
      // Printed once the port accepts connections.
      const onData = (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer)
          resolve()
        }
      }
      process.stdout?.on('data', onData)
      process.stderr?.on('data', onData)
      process.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`redis-server exited with ${code}:\n${output}`))
      })
      process.once('error', (error) => {
        clearTimeout(timer)
        reject(error)
      })
    })

  const halt = async (signal: NodeJS.Signals) => {
    const process = child
    child = undefined
    if (process === undefined || process.exitCode !== null || process.signalCode !== null) return
    const exited = new Promise((resolve) => process.once('exit', resolve))
    process.kill(signal)
    await exited
  }

  await launch()
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill: () => halt('SIGKILL'),
    restart: launch,
    async stop() {
      await halt('SIGTERM')
      await rm(dir, { recursive: true, force: true })
    },
  }
}
