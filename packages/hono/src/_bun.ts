import type { Context } from 'hono'

interface BunServerLike {
  timeout(request: Request, seconds: number): void
}

function isBunServer(value: unknown): value is BunServerLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { timeout?: unknown }).timeout === 'function' &&
    typeof (value as { requestIP?: unknown }).requestIP === 'function'
  )
}

/**
 * Bun closes a connection after `idleTimeout` seconds (10 by default) without bytes, which kills a
 * quiet event stream before a 15 s heartbeat can keep it open (oven-sh/bun #27479). Hono on Bun
 * gets the server as `c.env` (or `c.env.server`), so lift the limit for this one request.
 * @internal
 */
export function keepBunStreamOpen(c: Context): void {
  const env: unknown = c.env
  const server =
    typeof env === 'object' && env !== null && 'server' in env
      ? (env as { server: unknown }).server
      : env
  if (isBunServer(server)) server.timeout(c.req.raw, 0)
}
