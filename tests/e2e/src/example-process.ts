import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { withTimeout } from '@ssekit/test-support'

export interface ExampleProcess {
  /** Everything the process printed so far, stdout and stderr. */
  output(): string
  /** Resolves once the output contains `text`; bounded. */
  waitForOutput(text: string, ms?: number): Promise<void>
  /** Resolves with the exit code once the process ends by itself; bounded. */
  exited(ms?: number): Promise<number | null>
  stop(): Promise<void>
}

/** Runs `src/<file>` of `examples/<name>` the way its `npm start` does (tsx, source condition). */
export function runExample(
  name: string,
  file: string,
  environment: Record<string, string>,
): ExampleProcess {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=ssekit-source', `src/${file}`],
    {
      cwd: fileURLToPath(new URL(`../../../examples/${name}/`, import.meta.url)),
      env: { ...process.env, ...environment },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let output = ''
  const listeners = new Set<() => void>()
  const onData = (chunk: Buffer): void => {
    output += chunk.toString()
    for (const listener of listeners) listener()
  }
  child.stdout?.on('data', onData)
  child.stderr?.on('data', onData)
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))

  return {
    output: () => output,
    waitForOutput(text, ms = 30_000) {
      return withTimeout(
        new Promise<void>((resolve, reject) => {
          const check = (): void => {
            if (output.includes(text)) {
              listeners.delete(check)
              resolve()
            }
          }
          listeners.add(check)
          check()
          void exit.then((code) =>
            reject(
              new Error(`examples/${name} exited (${code}) before printing ${text}:\n${output}`),
            ),
          )
        }),
        ms,
        `examples/${name} prints ${JSON.stringify(text)}`,
      )
    },
    exited: (ms = 30_000) => withTimeout(exit, ms, `examples/${name} ${file} exits`),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
      child.kill('SIGTERM')
      await withTimeout(exit, 10_000, `examples/${name} stops`).finally(() => clearTimeout(timer))
    },
  }
}
