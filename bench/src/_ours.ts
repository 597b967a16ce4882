// Our packages are loaded lazily and checked for the exports each workload needs, so a package
// that is broken or incomplete makes its rows say why instead of breaking the whole bench.
import type { SseEvent } from '@ssekit/core'

export type Source = AsyncIterable<SseEvent> | Iterable<SseEvent>

export interface CoreApi {
  encodeEvent: (event: SseEvent) => Uint8Array
  createEventStream: (
    source: Source,
    options?: Record<string, unknown>,
  ) => ReadableStream<Uint8Array>
}

export interface HubApi {
  createHub: (options?: Record<string, unknown>) => Hub
}

export interface Hub {
  publish(topic: string, event: SseEvent): Promise<string>
  subscribe(
    topic: string,
    options?: { lastEventId?: string | undefined; signal?: AbortSignal | undefined },
  ): AsyncIterable<SseEvent>
  close(): Promise<void> | void
  stats(): { subscribers: number }
}

export interface NodeApi {
  sendEventStream: (
    request: unknown,
    response: unknown,
    source:
      | Source
      | ((context: { signal: AbortSignal; lastEventId: string | undefined }) => Source),
    options?: Record<string, unknown>,
  ) => Promise<unknown>
}

export interface ParsedEvent {
  data: string
  type?: string | undefined
  event?: string | undefined
  id?: string | undefined
}

export interface FetchClientApi {
  createParser: (callbacks: { onEvent: (event: ParsedEvent) => void }) => {
    feed(chunk: Uint8Array): void
    reset(): void
  }
  parseEventStream: (body: ReadableStream<Uint8Array>) => AsyncIterable<ParsedEvent>
}

export interface HonoApi {
  sse: (
    context: unknown,
    source:
      | Source
      | ((context: { signal: AbortSignal; lastEventId: string | undefined }) => Source),
    options?: Record<string, unknown>,
  ) => Response
}

export interface RedisApi {
  createRedisHub: (options: Record<string, unknown>) => Hub | Promise<Hub>
}

export type Loaded<T> = { ok: true; api: T } | { ok: false; reason: string }

// Literal specifiers, so the bench build (esbuild) bundles our packages from source; a computed
// specifier would load whatever `dist/` happens to hold at run time.
const importers = {
  core: () => import('@ssekit/core'),
  node: () => import('@ssekit/node'),
  fetchClient: () => import('@ssekit/fetch-client'),
  hono: () => import('@ssekit/hono'),
  redis: () => import('@ssekit/redis'),
} as const

async function load<T>(name: keyof typeof importers, names: readonly string[]): Promise<Loaded<T>> {
  const specifier = name === 'fetchClient' ? '@ssekit/fetch-client' : `@ssekit/${name}`
  let module: Record<string, unknown>
  try {
    module = (await importers[name]()) as unknown as Record<string, unknown>
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error)
    return { ok: false, reason: `${specifier} does not load yet (${message})` }
  }
  const missing = names.filter((entry) => typeof module[entry] !== 'function')
  if (missing.length > 0) {
    return { ok: false, reason: `${specifier} does not export ${missing.join(', ')} yet` }
  }
  return { ok: true, api: module as T }
}

export const loadCore = () => load<CoreApi>('core', ['encodeEvent', 'createEventStream'])
export const loadHub = () => load<HubApi>('core', ['createHub'])
export const loadNode = () => load<NodeApi>('node', ['sendEventStream'])
export const loadParser = () => load<FetchClientApi>('fetchClient', ['createParser'])
export const loadParseStream = () => load<FetchClientApi>('fetchClient', ['parseEventStream'])
export const loadHono = () => load<HonoApi>('hono', ['sse'])
export const loadRedis = () => load<RedisApi>('redis', ['createRedisHub'])
