/**
 * @module
 * Starts the non-Node runtimes the suite runs on: a fixture bundled once by esbuild (workspace
 * packages resolved to their TypeScript sources), then workerd through miniflare, or Bun and Deno
 * as child processes on free loopback ports. Every start and stop is bounded.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { withTimeout } from '@ssekit/test-support'
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'

const require = createRequire(import.meta.url)
const fixturesDirectory = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures')

/** The compatibility date the workers run with: recent, so stream backpressure follows the spec. */
export const compatibilityDate = '2026-04-20'

/**
 * Without `enable_request_signal`, workerd tells a Worker nothing when the client leaves: neither
 * `request.signal` nor the body's `cancel()` fires (checked with workerd 1.20260426), so a stream
 * would run forever. With it, `request.signal` aborts, which `sse()` and `eventStreamResponse`
 * (given the request) turn into the source's abort.
 */
export const compatibilityFlags = ['enable_request_signal']

/** Bun's binary from `@oven/bun-linux-x64`. */
export const bunPath = join(
  dirname(require.resolve('@oven/bun-linux-x64/package.json')),
  'bin',
  'bun',
)
/** Deno's binary from `@deno/linux-x64-glibc`. */
export const denoPath = join(dirname(require.resolve('@deno/linux-x64-glibc/package.json')), 'deno')

/** Bundles `fixtures/<entry>` into one ESM file in a fresh temporary directory. */
export async function bundleFixture(
  entry: string,
): Promise<{ file: string; remove(): Promise<void> }> {
  const directory = await mkdtemp(join(tmpdir(), 'ssekit-conformance-'))
  const file = join(directory, entry.replace(/\.ts$/, '.js'))
  await build({
    entryPoints: [join(fixturesDirectory, entry)],
    outfile: file,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['ssekit-source'],
    mainFields: ['module', 'main'],
    // Deno and Bun provide the node: built-ins themselves (the node:http fixture).
    external: ['node:*'],
    logLevel: 'error',
  })
  return { file, remove: () => rm(directory, { recursive: true, force: true }) }
}

/** A runtime started for a test file. */
export interface RuntimeProcess {
  /** The JSON line the fixture printed once it listened. */
  ready: { port: number; idlePort?: number | undefined }
  /** `http://127.0.0.1:<ready.port>`. */
  baseURL: string
  stop(): Promise<void>
}

async function spawnFixture(command: string, args: string[], cwd: string): Promise<RuntimeProcess> {
  const child: ChildProcess = spawn(command, args, {
    cwd,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1', DENO_NO_PROMPT: '1' },
  })
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    await withTimeout(exited, 5000, `${command} exits`).catch(() => child.kill('SIGKILL'))
  }
  try {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
    const firstLine = new Promise<string>((resolve, reject) => {
      lines.once('line', resolve)
      child.once('exit', (code) => reject(new Error(`${command} exited early (${code})`)))
      child.once('error', reject)
    })
    const ready = JSON.parse(
      await withTimeout(firstLine, 15_000, `${command} listens`),
    ) as RuntimeProcess['ready']
    return { ready, baseURL: `http://127.0.0.1:${ready.port}`, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

/** Runs a bundled fixture with Bun. */
export function startBun(file: string): Promise<RuntimeProcess> {
  return spawnFixture(bunPath, ['run', '--no-install', file], dirname(file))
}

/** Runs a bundled fixture with Deno, allowed to use the network and nothing else. */
export function startDeno(file: string): Promise<RuntimeProcess> {
  return spawnFixture(
    denoPath,
    ['run', '--allow-net=127.0.0.1', '--no-config', '--no-lock', '--no-prompt', file],
    dirname(file),
  )
}

/** Serves a bundled worker module with workerd through miniflare on a free loopback port. */
export async function startWorkerd(
  file: string,
): Promise<{ baseURL: string; stop(): Promise<void> }> {
  const miniflare = new Miniflare({
    modules: true,
    // As a string: miniflare resolves a scriptPath against the working directory and refuses one
    // outside it (the bundle lives in the system's temporary directory).
    script: await readFile(file, 'utf8'),
    compatibilityDate,
    compatibilityFlags,
    host: '127.0.0.1',
    port: 0,
  })
  const url = await withTimeout(miniflare.ready, 15_000, 'workerd listens')
  return { baseURL: url.origin, stop: () => miniflare.dispose() }
}

/**
 * Bundles `fixtures/<entry>` and starts it with `start` (one of {@link startBun},
 * {@link startDeno}, {@link startWorkerd}); `close()` stops the runtime, then removes the bundle.
 *
 * @example
 * ```ts
 * const bun = await startBundledFixture('bun-entry.ts', startBun)
 * await bun.close()
 * ```
 */
export async function startBundledFixture<T extends { baseURL: string; stop(): Promise<void> }>(
  entry: string,
  start: (file: string) => Promise<T>,
): Promise<T & { close(): Promise<void> }> {
  const bundle = await bundleFixture(entry)
  let runtime: T
  try {
    runtime = await start(bundle.file)
  } catch (error) {
    await bundle.remove()
    throw error
  }
  return {
    ...runtime,
    async close() {
      try {
        await runtime.stop()
      } finally {
        await bundle.remove()
      }
    },
  }
}
