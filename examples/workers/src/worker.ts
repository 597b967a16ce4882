/**
 * A Hono app for Cloudflare Workers that streams Server-Sent Events with `@ssekit/hono`.
 *
 * - `GET /events`: a ticker (`?interval=` ms, default 1000) that resumes after `Last-Event-ID`.
 * - `GET /stats`: how many streams opened and closed, kept by the `StreamStats` Durable Object, so
 *   you can watch a client that leaves stop its producer. Both take `?counter=<name>` to count
 *   separately (one Durable Object per name).
 */
import { sse } from '@ssekit/hono'
import { Hono } from 'hono'

/** The slice of the Workers runtime types this example uses (no `@cloudflare/workers-types` needed). */
interface DurableObjectStub {
  fetch(input: string, init?: RequestInit): Promise<Response>
}
interface DurableObjectNamespace {
  idFromName(name: string): unknown
  get(id: unknown): DurableObjectStub
}
interface DurableObjectStorage {
  get<T>(key: string): Promise<T | undefined>
  put<T>(key: string, value: T): Promise<void>
}
interface DurableObjectState {
  storage: DurableObjectStorage
}

/** The bindings `wrangler.jsonc` (or the miniflare script) declares. */
export interface Env {
  STREAM_STATS: DurableObjectNamespace
}

/** Counts stream opens and closes for the whole worker, across isolates. */
export class StreamStats {
  readonly #storage: DurableObjectStorage

  constructor(state: DurableObjectState) {
    this.#storage = state.storage
  }

  async fetch(request: Request): Promise<Response> {
    const counter = new URL(request.url).pathname.slice(1)
    if (request.method === 'POST' && (counter === 'opened' || counter === 'closed')) {
      await this.#storage.put(counter, ((await this.#storage.get<number>(counter)) ?? 0) + 1)
    }
    return Response.json({
      opened: (await this.#storage.get<number>('opened')) ?? 0,
      closed: (await this.#storage.get<number>('closed')) ?? 0,
    })
  }
}

/** The counters of one `?counter=` name (default `global`): one Durable Object per name. */
const stats = (env: Env, name: string | undefined): DurableObjectStub =>
  env.STREAM_STATS.get(env.STREAM_STATS.idFromName(name ?? 'global'))

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
    function done(): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
  })
}

const app = new Hono<{ Bindings: Env }>()

app.get('/', (c) =>
  c.text('GET /events (?interval=ms) streams ticks; GET /stats counts open and closed streams\n'),
)

app.get('/events', (c) => {
  const interval = Math.min(Math.max(Number(c.req.query('interval') ?? 1000) || 1000, 10), 60_000)
  const counters = stats(c.env, c.req.query('counter'))
  return sse(
    c,
    async function* ticker({ signal, lastEventId }) {
      for (let id = Number(lastEventId ?? 0) + 1 || 1; ; id++) {
        await sleep(interval, signal)
        if (signal.aborted) return
        yield { id: String(id), event: 'tick', data: { id, at: new Date().toISOString() } }
      }
    },
    {
      retry: 2000,
      onOpen: () =>
        c.executionCtx.waitUntil(counters.fetch('https://stats/opened', { method: 'POST' })),
      // The client is gone by now; waitUntil keeps the Worker alive until the count is stored.
      onClose: () =>
        c.executionCtx.waitUntil(counters.fetch('https://stats/closed', { method: 'POST' })),
    },
  )
})

app.get('/stats', async (c) =>
  c.json(await (await stats(c.env, c.req.query('counter')).fetch('https://stats/')).json()),
)

export default app
