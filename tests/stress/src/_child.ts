import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { type ChildMessage, type NodeChild, startNodeChild } from '@ssekit/test-support'

/** One JSON line a child process printed. */
export type Message = ChildMessage

/** A Node child process running a TypeScript file of `src/`, talking JSON lines on stdout. */
export interface Child extends NodeChild<Message> {
  /** Resolves with the first message of `type` after the `from`th message (default: any so far). */
  next(type: string, ms: number, label: string, from?: number): Promise<Message>
}

/**
 * Starts `src/<file>` under `node --expose-gc` with TypeScript sources loaded through tsx and the
 * workspace packages through their `source` export condition, as vitest resolves them.
 */
export function startChild(file: string, env: Record<string, string> = {}): Child {
  const child = startNodeChild<Message>(fileURLToPath(new URL(file, import.meta.url)), {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env,
    nodeOptions: ['--expose-gc'],
  })
  return Object.assign(child, {
    next: (type: string, ms: number, label: string, from = 0) =>
      child.until(
        (messages) => messages.slice(from).find((message) => message.type === type),
        ms,
        label,
      ),
  })
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
