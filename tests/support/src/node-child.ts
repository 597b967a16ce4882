import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { withTimeout } from './with-timeout.ts'

/** One JSON line a child process printed on stdout. */
export type ChildMessage = { type: string } & Record<string, unknown>

/**
 * A Node child process running a TypeScript file, talking JSON lines: it prints one JSON object
 * per stdout line (other lines are ignored) and reads commands from stdin. `await using` kills it.
 *
 * @example
 * ```ts
 * await using child = startNodeChild(file, { env: { TOPIC: 'news' } })
 * await child.until((messages) => messages.find((message) => message.type === 'ready'), 5000, 'ready')
 * ```
 */
export interface NodeChild<M extends ChildMessage = ChildMessage> extends AsyncDisposable {
  readonly process: ChildProcess
  /** Every message so far, in order. */
  readonly messages: M[]
  /** What the child wrote to stderr so far. */
  readonly stderr: string
  /**
   * Resolves with the first non-`undefined` result of `check(messages)`, re-run on every message;
   * rejects with `label` and the child's stderr if the child exits first, or after `ms`.
   */
  until<R>(check: (messages: readonly M[]) => R | undefined, ms: number, label: string): Promise<R>
  /** Sends one JSON line on stdin. */
  send(command: Record<string, unknown>): void
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>
}

/** Options of {@link startNodeChild}. */
export interface NodeChildOptions {
  /** Working directory, so tsx and the workspace packages resolve as in the test. */
  cwd?: string | undefined
  /** Added to the test's own environment. */
  env?: Record<string, string> | undefined
  /** Extra Node flags before the tsx loader, such as `--expose-gc`. */
  nodeOptions?: readonly string[] | undefined
}

/**
 * Starts `file` (an absolute path to a TypeScript file) under Node with tsx and the workspace
 * packages' `source` export condition, as vitest resolves them, so the child runs the same code.
 *
 * @example
 * ```ts
 * const child = startNodeChild(fileURLToPath(new URL('./_child.ts', import.meta.url)))
 * try {
 *   child.send({ type: 'publish' })
 *   await child.until((messages) => messages.length >= 3 || undefined, 5000, 'three messages')
 * } finally {
 *   await child.kill()
 * }
 * ```
 */
export function startNodeChild<M extends ChildMessage = ChildMessage>(
  file: string,
  options: NodeChildOptions = {},
): NodeChild<M> {
  const child = spawn(
    process.execPath,
    [...(options.nodeOptions ?? []), '--import', 'tsx', '--conditions', 'ssekit-source', file],
    {
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  )
  const messages: M[] = []
  const listeners = new Set<() => void>()
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    if (!line.startsWith('{')) return
    messages.push(JSON.parse(line) as M)
    for (const listener of [...listeners]) listener()
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await withTimeout(exited, 10_000, `${file} exits on SIGKILL`)
  }
  return {
    process: child,
    messages,
    get stderr() {
      return stderr
    },
    until(check, ms, label) {
      return withTimeout(
        new Promise((resolve, reject) => {
          const listener = () => {
            const result = check(messages)
            if (result !== undefined) {
              listeners.delete(listener)
              resolve(result)
            }
          }
          void exited.then(() => {
            if (!listeners.has(listener)) return
            listener()
            if (listeners.has(listener)) {
              listeners.delete(listener)
              reject(new Error(`${label}: the child exited (${child.exitCode})\n${stderr}`))
            }
          })
          listeners.add(listener)
          listener()
        }),
        ms,
        label,
      )
    },
    send(command) {
      child.stdin?.write(`${JSON.stringify(command)}\n`)
    },
    kill,
    [Symbol.asyncDispose]: kill,
  }
}
