/**
 * A browser entry, bundled by esbuild with `@ssekit/fetch-client` and run inside Chromium: a set of
 * the package's client tests (packages/fetch-client/test/_client-suite.ts) against the same
 * scenario server. Each case runs in the page and returns plain data; the assertions are made in
 * Node (test/fetch-client-browser.test.ts).
 */
import { SseError } from '@ssekit/core'
import { fetchEventStream, type RetryContext, type ServerSentEvent } from '@ssekit/fetch-client'

interface RequestRecord {
  method: string
  path: string
  lastEventId: string | null
  authorization: string | null
  body: string
}

interface Scenario {
  url: string
  log(): Promise<{ requests: RequestRecord[]; clientClosed: number }>
}

function scenario(path: string, query: Record<string, string> = {}): Scenario {
  const key = crypto.randomUUID()
  const url = new URL(path, location.origin)
  url.searchParams.set('key', key)
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value)
  return {
    url: url.href,
    log: async () => (await fetch(`/_log?key=${key}`)).json(),
  }
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const event of iterable) out.push(event)
  return out
}

/** How a promise failed, as plain data. */
interface Failure {
  resolved?: true
  isSseError?: boolean
  code?: string
  status?: number | null
  contentType?: string | null
  bodyStart?: string | null
  bodyLength?: number | null
  message?: string
}

async function failure(promise: Promise<unknown>): Promise<Failure> {
  try {
    await promise
  } catch (error) {
    if (SseError.isInstance(error)) {
      return {
        isSseError: true,
        code: error.code,
        status: error.status ?? null,
        contentType: error.headers?.get('content-type') ?? null,
        bodyStart: error.body?.slice(0, 25) ?? null,
        bodyLength: error.body?.length ?? null,
      }
    }
    return { isSseError: false, message: (error as Error).message }
  }
  return { resolved: true }
}

const data = (events: ServerSentEvent[]) =>
  events.map((event) => `${event.data}/${event.lastEventId}`)

export const cases = {
  async resumeChain() {
    const { url, log } = scenario('/resume-chain')
    const retries: RetryContext[] = []
    const events = await collect(
      fetchEventStream(url, { onRetry: (context) => retries.push(context) }),
    )
    return {
      events: data(events),
      lastEventIds: (await log()).requests.map((request) => request.lastEventId),
      retryCodes: retries.map((retry) => retry.error?.code ?? null),
    }
  },

  async noContent() {
    const { url, log } = scenario('/status', { status: '204' })
    const events = await collect(fetchEventStream(url))
    return { events: events.length, requests: (await log()).requests.length }
  },

  async notFound() {
    const { url, log } = scenario('/status', { status: '404' })
    const seen: string[] = []
    const error = await failure(
      (async () => {
        for await (const event of fetchEventStream(url, { retryMs: 1 })) seen.push(event.data)
      })(),
    )
    return { error, seen, requests: (await log()).requests.length }
  },

  async wrongContentType() {
    const { url, log } = scenario('/content-type', { type: 'text/html' })
    const error = await failure(collect(fetchEventStream(url, { retryMs: 1 })))
    return { error, requests: (await log()).requests.length }
  },

  async jsonAndUtf8() {
    const { url } = scenario('/json')
    const events = await collect(
      fetchEventStream<{ token: { text: string }; done: null }>(url, { parse: 'json' }),
    )
    return events.map((event) => (event.type === 'token' ? event.data.text : '|')).join('')
  },

  async postResumedWithGet() {
    const { url, log } = scenario('/post-drop')
    const contexts: { lastEventId: string; code: string | null }[] = []
    const events = await collect(
      fetchEventStream(url, {
        method: 'POST',
        body: '{"prompt":"hi"}',
        headers: { authorization: 'Bearer t' },
        retryMs: 1,
        resume: ({ lastEventId, error }) => {
          contexts.push({ lastEventId, code: error?.code ?? null })
          return url.replace('/post-drop', '/post-resume')
        },
      }),
    )
    const { requests } = await log()
    return {
      events: data(events),
      contexts,
      requests: requests.map((request) => [
        request.method,
        request.path,
        request.lastEventId,
        request.authorization,
        request.body,
      ]),
    }
  },

  async headersFunction() {
    const { url, log } = scenario('/resume-chain')
    let calls = 0
    await collect(
      fetchEventStream(url, {
        headers: async () => ({ authorization: `Bearer token-${++calls}` }),
      }),
    )
    return (await log()).requests.map((request) => request.authorization)
  },

  async idleTimeout() {
    const { url, log } = scenario('/stall')
    const retries: RetryContext[] = []
    const events = await collect(
      fetchEventStream(url, {
        idleTimeoutMs: 150,
        retryMs: 1,
        onRetry: (context) => retries.push(context),
      }),
    )
    return {
      events: data(events),
      retryCodes: retries.map((retry) => retry.error?.code ?? null),
      requests: (await log()).requests.length,
    }
  },

  async abortedSignal() {
    const { url, log } = scenario('/once')
    const reason = new Error('already')
    let rejectedWithReason = false
    try {
      await fetchEventStream(url, { signal: AbortSignal.abort(reason) }).next()
    } catch (error) {
      rejectedWithReason = error === reason
    }
    return { rejectedWithReason, requests: (await log()).requests.length }
  },

  async closeDuringRead() {
    const { url, log } = scenario('/endless')
    const client = fetchEventStream(url)
    const seen: string[] = []
    for await (const event of client) {
      seen.push(event.data)
      if (seen.length === 3) client.close()
    }
    const deadline = Date.now() + 5000
    let closed = 0
    while (closed === 0 && Date.now() < deadline) {
      closed = (await log()).clientClosed
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    return { seen, clientClosed: closed, doneAfter: (await client.next()).done }
  },
}

export type CaseName = keyof typeof cases

declare global {
  interface Window {
    runFetchClientCase(name: CaseName): Promise<unknown>
  }
}

window.runFetchClientCase = (name) => cases[name]()
