import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './free-port.ts'
import { withTimeout } from './with-timeout.ts'

export interface RedisServer {
  readonly url: string
  stop(): Promise<void>
}

/** A real `redis-server` of our own on a free loopback port, its data in a temp dir. */
export async function startRedisServer(): Promise<RedisServer> {
  const directory = await mkdtemp(join(tmpdir(), 'ssekit-e2e-redis-'))
  const port = await freePort()
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', directory, '--save', ''],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let output = ''
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        output += chunk.toString()
        if (output.includes('Ready to accept connections')) resolve()
      }
      child.stdout?.on('data', onData)
      child.stderr?.on('data', onData)
      child.once('error', reject)
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${output}`)))
    }),
    10_000,
    'redis-server starts',
  )
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        await withTimeout(exited, 10_000, 'redis-server stops')
      }
      await rm(directory, { recursive: true, force: true })
    },
  }
}
