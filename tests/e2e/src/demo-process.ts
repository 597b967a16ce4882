import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { freePort, waitUntil, withTimeout } from '@ssekit/test-support'

/** One line of the demo's JSON log: the fields the tests read. */
export interface LogLine {
  msg: string
  kind?: string
  conversationId?: string
  topic?: string
  lastEventId?: string | null
  hit?: boolean
  dropped?: number
  reason?: string
}

export interface DemoProcess {
  readonly port: number
  readonly baseURL: string
  /** Every log line of every run of this process so far (restarts append). */
  readonly logs: LogLine[]
  /** Waits (bounded) for a log line `match` accepts, among those logged from index `from` on. */
  waitForLog(match: (line: LogLine) => boolean, label: string, from?: number): Promise<LogLine>
  /** SIGKILL, as a crash: no graceful close, no final event. */
  kill(): Promise<void>
  /** Starts it again on the same port. */
  restart(): Promise<void>
  /** SIGTERM (a graceful shutdown), SIGKILL after 5 s; resolves with the exit code. Idempotent. */
  stop(): Promise<number | null>
}

const demoDirectory = fileURLToPath(new URL('../../../examples/demo/', import.meta.url))

/**
 * Runs the demo server as `npm start` does (from its TypeScript sources through tsx), as a child
 * process on a free loopback port, so a test can kill it and start it again.
 */
export async function startDemo(
  environment: Record<string, string> = {},
  port?: number,
): Promise<DemoProcess> {
  const chosenPort = port ?? (await freePort())
  const logs: LogLine[] = []
  let child: ChildProcess | undefined
  let stderr = ''

  const launch = async (): Promise<void> => {
    const from = logs.length
    const process_ = spawn(
      process.execPath,
      ['--import', 'tsx', '--conditions=ssekit-source', 'src/server.ts'],
      {
        cwd: demoDirectory,
        env: {
          ...process.env,
          PORT: String(chosenPort),
          HOST: '127.0.0.1',
          REDIS_URL: '',
          ...environment,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    child = process_
    process_.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    createInterface({ input: process_.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (line.startsWith('{')) logs.push(JSON.parse(line) as LogLine)
    })
    const exited = new Promise<never>((_, reject) =>
      process_.once('exit', (code, signal) =>
        reject(new Error(`demo exited (${code ?? signal}) before listening:\n${stderr}`)),
      ),
    )
    exited.catch(() => {})
    await withTimeout(
      Promise.race([
        waitUntil(
          () => logs.slice(from).some((line) => line.msg === 'listening'),
          Boolean,
          30_000,
          'demo logs "listening"',
        ),
        exited,
      ]),
      31_000,
      `demo on port ${chosenPort} starts`,
    )
  }

  const halt = async (signal: NodeJS.Signals): Promise<number | null> => {
    const running = child
    child = undefined
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) {
      return running?.exitCode ?? null
    }
    const exited = new Promise<number | null>((resolve) => running.once('exit', resolve))
    running.kill(signal)
    const timer = setTimeout(() => running.kill('SIGKILL'), 5_000)
    return withTimeout(exited, 10_000, `demo exits on ${signal}`).finally(() => clearTimeout(timer))
  }

  await launch()
  return {
    port: chosenPort,
    baseURL: `http://127.0.0.1:${chosenPort}`,
    logs,
    waitForLog: (match, label, from = 0) =>
      waitUntil(
        () => logs.slice(from).find(match),
        (line) => line !== undefined,
        15_000,
        label,
      ) as Promise<LogLine>,
    kill: async () => {
      await halt('SIGKILL')
    },
    restart: launch,
    stop: () => halt('SIGTERM'),
  }
}
