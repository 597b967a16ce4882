/**
 * @module
 * The boilerplate every fixture server that hosts both routes shares (Bun, Deno, workerd,
 * `@hono/node-server`): start once per file, run the suite on Hono's `sse()` behind `compress()`
 * (`/hono/…`) and on `eventStreamResponse` (`/fetch/…`), stop after.
 */
import { afterAll, beforeAll } from 'vitest'
import {
  type ConformanceSupport,
  type RunningServer,
  runSseConformance,
} from './run-sse-conformance.ts'

/**
 * Every check enabled: a target without a known gap.
 *
 * @example
 * ```ts
 * runSseConformance({ name: 'node:http', start: startNodeHttp, supports: fullSupport })
 * ```
 */
export const fullSupport: ConformanceSupport = {
  lastEventIdQuery: true,
  clientAbort: true,
  boundedProducer: true,
  heartbeat: true,
  everyDisconnectNoticed: true,
}

/** Options of {@link runRoutePairConformance}. */
export interface RoutePairOptions<T extends RunningServer> {
  /** Named in both suite titles: `Hono sse() on <runtime>, …` and `eventStreamResponse on <runtime>`. */
  runtime: string
  /** Starts the server hosting `/hono/…` and `/fetch/…`, once for the test file. */
  start: () => Promise<T>
  /** @defaultValue 'http/1.1' */
  protocol?: 'http/1.1' | 'h2c' | undefined
  /** @defaultValue {@link fullSupport} */
  supports?: ConformanceSupport | undefined
}

/**
 * Registers the conformance suite twice on one started server (Hono `sse()` behind `compress()`,
 * and `eventStreamResponse`) and returns an accessor for that server, for the file's own checks.
 *
 * @example
 * ```ts
 * const bun = runRoutePairConformance({
 *   runtime: 'Bun',
 *   start: () => startBundledFixture('bun-entry.ts', startBun),
 * })
 * test('idle port', () => expect(bun().ready.idlePort).toBeGreaterThan(0))
 * ```
 */
export function runRoutePairConformance<T extends RunningServer>(
  options: RoutePairOptions<T>,
): () => T {
  let server: T | undefined
  beforeAll(async () => {
    server = await options.start()
  })
  afterAll(async () => {
    await server?.close()
  })
  const started = (): T => {
    if (server === undefined) throw new Error(`${options.runtime} did not start`)
    return server
  }
  const shared = {
    baseURL: () => started().baseURL,
    protocol: options.protocol,
    supports: options.supports ?? fullSupport,
  }
  runSseConformance({
    name: `Hono sse() on ${options.runtime}, behind compress()`,
    prefix: '/hono',
    compression: true,
    ...shared,
  })
  runSseConformance({
    name: `eventStreamResponse on ${options.runtime}`,
    prefix: '/fetch',
    ...shared,
  })
  return started
}
