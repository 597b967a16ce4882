import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { withTimeout } from './_with-timeout.ts'

/** One JSON line a child process printed. */
export type Message = { type: string } & Record<string, unknown>

/** A Node child process running a TypeScript file of `src/`, talking JSON lines on stdout. */
export interface Child extends AsyncDisposable {
  readonly process: ChildProcess
  readonly messages: Message[]
  /** Resolves with the first message of `type` after the `from`th message (default: any so far). */
  next(type: string, ms: number, label: string, from?: number): Promise<Message>
  /** Sends one line on stdin. */
  send(command: Record<string, unknown>): void
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>
  /** What the child wrote to stderr. */
  readonly stderr: string
}

/**
 * Starts `src/<file>` under `node --expose-gc` with TypeScript sources loaded through tsx and the
 * workspace packages through their `source` export condition, as vitest resolves them.
 */
export function startChild(file: string, env: Record<string, string> = {}): Child {
  const path = fileURLToPath(new URL(file, import.meta.url))
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', '--conditions', 'source', path],
    {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  )
  const messages: Message[] = []
  const listeners = new Set<() => void>()
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    if (!line.startsWith('{')) return
    messages.push(JSON.parse(line) as Message)
    for (const listener of [...listeners]) listener()
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  }
  return {
    process: child,
    messages,
    get stderr() {
      return stderr
    },
    next(type, ms, label, from = 0) {
      return withTimeout(
        new Promise<Message>((resolve, reject) => {
          const check = () => {
            const found = messages.slice(from).find((message) => message.type === type)
            if (found !== undefined) {
              listeners.delete(check)
              resolve(found)
            }
          }
          void exited.then(() => {
            if (listeners.has(check)) {
              check()
              if (listeners.has(check)) reject(new Error(`${label}: the child exited\n${stderr}`))
            }
          })
          listeners.add(check)
          check()
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

/** In a child: prints one message. */
export function say(message: Message): void {
  process.stdout.write(`${JSON.stringify(message)}\n`)
}

/** In a child: calls `handle` for every command line on stdin. */
export function onCommand(handle: (command: Message) => void | Promise<void>): void {
  createInterface({ input: process.stdin }).on('line', (line) => {
    void handle(JSON.parse(line) as Message)
  })
}

/** In a child: a full collection, several passes so that finalisers and weak refs settle. */
export async function settledHeap(): Promise<{ heapUsed: number; rss: number }> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('run with --expose-gc')
  for (let pass = 0; pass < 4; pass++) {
    gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
  const { heapUsed, rss } = process.memoryUsage()
  return { heapUsed, rss }
}

/** In a child: live handles and requests by kind (timers, sockets), as Node counts them. */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1
  return counts
}
