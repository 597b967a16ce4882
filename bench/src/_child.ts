import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { withTimeout } from './_report.ts'

// Built (`dist/*.js`, what `npm run bench` runs, and the smoke test after its global setup built
// it): children are plain JavaScript too. Otherwise (`node --import tsx src/...`): TypeScript
// through tsx, our packages from source.
const built = import.meta.url.endsWith('.js') || process.env['SSEKIT_BENCH_BUILT_CHILDREN'] === '1'
const childExecArgv = built
  ? ['--expose-gc']
  : ['--import', 'tsx', '--conditions=ssekit-source', '--expose-gc']

export interface Child {
  process: ChildProcess
  /** Resolves with the next IPC message that matches, or rejects on timeout or exit. */
  next<T extends { type: string }>(type: T['type'], ms: number, label: string): Promise<T>
  send(message: object): void
  /** Stderr so far (for error messages). */
  stderr(): string
  /** Kills the child (SIGKILL after a grace period) and waits for it to exit. */
  stop(): Promise<void>
}

/**
 * Forks `src/<file>` with IPC. Messages are queued until asked for, so none is lost between two
 * `next()` calls.
 */
export function startChild(
  file: string,
  args: readonly string[],
  extraExecArgv: string[] = [],
): Child {
  const url = built
    ? new URL(`../dist/${file.replace(/\.ts$/, '.js')}`, new URL('.', import.meta.url))
    : new URL(file, import.meta.url)
  const path = fileURLToPath(url)
  const child = fork(path, [...args], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    execArgv: [...childExecArgv, ...extraExecArgv],
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  })
  let stderr = ''
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (text: string) => {
    stderr = (stderr + text).slice(-4000)
  })
  const queue: { type: string }[] = []
  const waiters: { type: string; resolve: (message: { type: string }) => void }[] = []
  let exited: Error | undefined
  const exitWaiters: ((error: Error) => void)[] = []
  child.on('message', (message: { type: string }) => {
    const index = waiters.findIndex((waiter) => waiter.type === message.type)
    if (index >= 0) waiters.splice(index, 1)[0]?.resolve(message)
    else queue.push(message)
  })
  const exitPromise = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      exited = new Error(`${file} exited (${code ?? signal}): ${stderr.trim().slice(-1500)}`)
      for (const reject of exitWaiters.splice(0)) reject(exited)
      resolve()
    })
  })
  return {
    process: child,
    next<T extends { type: string }>(type: T['type'], ms: number, label: string) {
      const index = queue.findIndex((message) => message.type === type)
      if (index >= 0) return Promise.resolve(queue.splice(index, 1)[0] as T)
      if (exited) return Promise.reject(exited)
      const waiter = { type, resolve: (_message: { type: string }) => {} }
      const waiting = new Promise<T>((resolve, reject) => {
        waiter.resolve = resolve as (message: { type: string }) => void
        waiters.push(waiter)
        exitWaiters.push(reject)
      })
      return withTimeout(waiting, ms, `${label} (${file} ${args.join(' ')})`).catch(
        (error: unknown) => {
          // A message that comes after the timeout is queued for a later next(), not lost.
          const index = waiters.indexOf(waiter)
          if (index >= 0) waiters.splice(index, 1)
          throw error
        },
      )
    },
    send(message) {
      if (child.connected) child.send(message)
    },
    stderr: () => stderr,
    async stop() {
      if (exited) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000)
      await exitPromise
      clearTimeout(timer)
    },
  }
}

/** For child entry points: exit when the parent is gone (crashed or killed) instead of lingering. */
export function exitWithParent(): void {
  process.once('disconnect', () => process.exit(0))
}

/** Sends a message to the parent, if there is one. */
export function tell(message: { type: string } & Record<string, unknown>): void {
  process.send?.(message)
}
