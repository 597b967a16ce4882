import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A real `redis-server` of the test's own, on a free loopback port, data in a temp directory. */
export interface RedisServer extends AsyncDisposable {
  readonly port: number
  readonly url: string
  /** SIGKILL, as a crash: only what `appendfsync always` wrote survives. */
  kill(): Promise<void>
  /** SIGSTOP: the process stays, the port accepts nothing and answers nothing. */
  freeze(): void
  /** SIGCONT after {@link freeze}. */
  thaw(): void
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

export async function startRedisServer(): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'ssekit-stress-redis-'))
  const port = await freePort()
  let child: ChildProcess | undefined

  const launch = () =>
    new Promise<void>((resolve, reject) => {
      const redis = spawn(
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
          'yes',
          '--appendfsync',
          'always',
          '--daemonize',
          'no',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      )
      child = redis
      let output = ''
      const timer = setTimeout(() => {
        redis.kill('SIGKILL')
        reject(new Error(`redis-server did not start within 10 s:\n${output}`))
      }, 10_000)
      const onData = (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer)
          redis.stdout?.off('data', onData)
          redis.stderr?.off('data', onData)
          resolve()
        }
      }
      redis.stdout?.on('data', onData)
      redis.stderr?.on('data', onData)
      redis.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`redis-server exited with ${code}:\n${output}`))
      })
      redis.once('error', (error) => {
        clearTimeout(timer)
        reject(error)
      })
    })

  const halt = async (signal: NodeJS.Signals) => {
    const redis = child
    child = undefined
    if (redis === undefined || redis.exitCode !== null || redis.signalCode !== null) return
    const exited = new Promise((resolve) => redis.once('exit', resolve))
    redis.kill('SIGCONT')
    redis.kill(signal)
    await exited
  }

  const stop = async () => {
    await halt('SIGTERM')
    await rm(dir, { recursive: true, force: true })
  }
  await launch()
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
