// The miniflare options shared by `npm start` and the tests: the same bindings as wrangler.jsonc.
import { fileURLToPath } from 'node:url'

/** Where `scripts/build.mjs` writes the bundled worker. */
export const workerFile = fileURLToPath(new URL('../dist/worker.js', import.meta.url))

/** Keep in step with `compatibility_date` in wrangler.jsonc. */
export const compatibilityDate = '2026-04-20'

/**
 * Keep in step with `compatibility_flags` in wrangler.jsonc: without `enable_request_signal`,
 * workerd tells a Worker nothing when the client leaves, so a stream's producer would run on.
 */
export const compatibilityFlags = ['enable_request_signal']

/**
 * @param {{ host?: string, port?: number }} [listen]
 * @returns {import('miniflare').MiniflareOptions}
 */
export function workerOptions(listen = {}) {
  return {
    modules: true,
    scriptPath: workerFile,
    compatibilityDate,
    compatibilityFlags,
    durableObjects: { STREAM_STATS: 'StreamStats' },
    host: listen.host ?? '127.0.0.1',
    port: listen.port ?? 0,
  }
}
