import { type Child, startChild } from './_child.ts'

/** Display names of the server targets (see `_server.ts`). */
export const targetNames: Record<string, string> = {
  plain: 'seed: plain node:http writer',
  'hono-streamSSE': 'Hono streamSSE on @hono/node-server',
  'better-sse': 'better-sse',
  'ssekit-node': 'ssekit @ssekit/node sendEventStream',
  'ssekit-hono': 'ssekit @ssekit/hono sse on @hono/node-server',
  'hono-floor': 'floor: Hono on @hono/node-server holding the raw response (no SSE code)',
}

export interface StartedServer {
  child: Child
  port: number
}

/** Starts a server child; resolves `undefined` with the reason when the target is not available. */
export async function startServer(
  target: string,
): Promise<{ server: StartedServer } | { unavailable: string }> {
  const child = startChild('_server.ts', [target])
  const first = await Promise.race([
    child.next<{ type: 'ready'; port: number }>('ready', 30_000, 'server ready'),
    child.next<{ type: 'unavailable'; reason: string }>('unavailable', 30_000, 'server ready'),
  ])
  if (first.type === 'unavailable') {
    await child.stop()
    return { unavailable: (first as { reason: string }).reason }
  }
  return { server: { child, port: (first as { port: number }).port } }
}

/** The order of targets in round `round`: rotated so no target always runs first or last. */
export function rotate<T>(items: readonly T[], round: number): T[] {
  const shift = round % items.length
  return [...items.slice(shift), ...items.slice(0, shift)]
}
