import { randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { type Hub, lastEventIdFrom, SseError, type SseEvent } from '@ssekit/core'
import { sendEventStream } from '@ssekit/node'
import { HttpError, readJsonBody, sendJson } from './_http.ts'
import { sleep } from './_sleep.ts'
import { generate } from './chat.ts'
import type { Figures } from './figures.ts'
import type { Logger } from './log.ts'
import { marketSource } from './market.ts'

export interface DemoAppOptions {
  hub: Hub
  figures: Figures
  log: Logger
  /** Milliseconds between market ticks. @defaultValue 500 */
  tickMs?: number | undefined
  /** Mean milliseconds between chat tokens. @defaultValue 45 */
  tokenMs?: number | undefined
  /** Largest accepted POST body. @defaultValue 8192 */
  maxBodyBytes?: number | undefined
  /** Most generations running at once on this instance. @defaultValue 50 */
  maxGenerations?: number | undefined
}

export interface DemoApp {
  handle(request: IncomingMessage, response: ServerResponse): void
  /** Stops the running generations (on shutdown). */
  stop(): void
}

const conversationIdPattern = /^[A-Za-z0-9_-]{8,64}$/
const maxPromptLength = 500
const maxRemembered = 10_000
const staticFiles: Record<string, { file: URL; type: string }> = {
  '/': { file: new URL('../public/index.html', import.meta.url), type: 'text/html' },
  '/styles.css': { file: new URL('../public/styles.css', import.meta.url), type: 'text/css' },
  '/client.js': {
    file: new URL('../dist/public/client.js', import.meta.url),
    type: 'text/javascript',
  },
  '/client.js.map': {
    file: new URL('../dist/public/client.js.map', import.meta.url),
    type: 'application/json',
  },
}
const securityHeaders = {
  'x-content-type-options': 'nosniff',
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'",
  'referrer-policy': 'no-referrer',
}

/**
 * The demo's routes on plain node:http:
 *
 * - `GET /events/market`: the dashboard's ticks over `EventSource`, resumable with `Last-Event-ID`;
 * - `GET /events/figures`: the server figures, once a second;
 * - `POST /api/chat` `{ conversationId, prompt }`: starts a generation into the hub topic
 *   `chat:<id>` and streams it;
 * - `GET /api/chat/<id>/stream` with `Last-Event-ID`: resumes that stream where it broke;
 * - `POST /api/chat/<id>/drop`: cuts this instance's open streams of that conversation (the
 *   page's "drop connection" button: a real TCP close, not a client-side abort).
 */
export function createDemoApp(options: DemoAppOptions): DemoApp {
  const { hub, figures, log } = options
  const market = marketSource({ tickMs: options.tickMs })
  const maxBodyBytes = options.maxBodyBytes ?? 8192
  const maxGenerations = options.maxGenerations ?? 50
  const generations = new AbortController()
  const started = new Set<string>()
  const openChatResponses = new Map<string, Set<ServerResponse>>()

  /** Ends after the answer's `done` (or a `reset`: the cursor is gone), so the response ends too. */
  async function* untilDone(source: AsyncIterable<SseEvent>): AsyncGenerator<SseEvent> {
    for await (const event of figures.counted(source)) {
      yield event
      if (event.event === 'done' || event.event === 'reset') return
    }
  }

  async function streamChat(
    request: IncomingMessage,
    response: ServerResponse,
    conversationId: string,
    source: AsyncIterable<SseEvent>,
    kind: string,
  ): Promise<void> {
    let responses = openChatResponses.get(conversationId)
    if (responses === undefined) {
      responses = new Set()
      openChatResponses.set(conversationId, responses)
    }
    responses.add(response)
    try {
      await sendEventStream(request, response, untilDone(source), {
        ...figures.streamHooks(kind, request.url ?? ''),
        headers: { 'x-conversation-id': conversationId },
      })
    } finally {
      responses.delete(response)
      if (responses.size === 0) openChatResponses.delete(conversationId)
    }
  }

  async function startChat(request: IncomingMessage, response: ServerResponse): Promise<void> {
    figures.chatPosts++
    const body = await readJsonBody(request, maxBodyBytes)
    const { prompt, conversationId = randomUUID() } = (body ?? {}) as Record<string, unknown>
    if (typeof prompt !== 'string' || prompt.trim() === '' || prompt.length > maxPromptLength) {
      throw new HttpError(400, `prompt must be a string of 1 to ${maxPromptLength} characters`)
    }
    if (typeof conversationId !== 'string' || !conversationIdPattern.test(conversationId)) {
      throw new HttpError(400, 'conversationId must be 8 to 64 letters, digits, - or _')
    }
    if (started.has(conversationId)) {
      throw new HttpError(
        409,
        `already started: resume with GET /api/chat/${conversationId}/stream`,
      )
    }
    if (figures.generationsRunning >= maxGenerations) {
      throw new HttpError(429, 'too many answers are being generated, try again in a moment')
    }
    const topic = `chat:${conversationId}`
    // Claimed before any await, so two racing POSTs of one conversation cannot both start it.
    started.add(conversationId)
    // Remember enough ids to refuse a re-sent POST, not every id forever.
    if (started.size > maxRemembered) started.delete(started.values().next().value as string)
    // Subscribe before the first token exists, so this response misses nothing.
    const subscription = hub.subscribe(topic, { signal: generations.signal })
    try {
      await subscription.ready
    } catch (error) {
      started.delete(conversationId)
      throw error
    }
    figures.generationsRunning++
    log.info({ msg: 'chat start', conversationId, promptLength: prompt.length })
    generate(hub, topic, conversationId, prompt.trim(), {
      tokenMs: options.tokenMs,
      signal: generations.signal,
    })
      .catch((error: unknown) =>
        log.error({ msg: 'generation failed', conversationId, error: String(error) }),
      )
      .finally(() => {
        figures.generationsRunning--
        log.info({ msg: 'chat done', conversationId })
      })
    await streamChat(request, response, conversationId, subscription, 'chat')
  }

  async function resumeChat(
    request: IncomingMessage,
    response: ServerResponse,
    conversationId: string,
  ): Promise<void> {
    figures.chatResumes++
    const lastEventId = lastEventIdFrom(request)
    log.info({ msg: 'chat resume', conversationId, lastEventId: lastEventId ?? null })
    const subscription = hub.subscribe(`chat:${conversationId}`, {
      lastEventId,
      signal: generations.signal,
    })
    await subscription.ready
    await streamChat(request, response, conversationId, subscription, 'chat-resume')
  }

  function dropChat(response: ServerResponse, conversationId: string): void {
    const responses = openChatResponses.get(conversationId)
    let dropped = 0
    for (const open of responses ?? []) {
      open.destroy()
      dropped++
    }
    log.info({ msg: 'chat drop', conversationId, dropped })
    sendJson(response, 200, { dropped })
  }

  async function serveStatic(response: ServerResponse, path: string): Promise<void> {
    const entry = staticFiles[path] as { file: URL; type: string }
    let content: Buffer
    try {
      content = await readFile(entry.file)
    } catch {
      throw new HttpError(
        500,
        `${path} is missing: build it with  npm run build -w @ssekit/example-demo`,
      )
    }
    response.writeHead(200, {
      'content-type': `${entry.type}; charset=utf-8`,
      'content-length': String(content.byteLength),
      'cache-control': 'no-cache',
      ...securityHeaders,
    })
    response.end(content)
  }

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost')
    const path = url.pathname
    const method = request.method ?? 'GET'
    const chat = /^\/api\/chat\/([^/]+)\/(stream|drop)$/.exec(path)

    if (method === 'GET' && path in staticFiles) return serveStatic(response, path)
    if (method === 'GET' && path === '/events/market') {
      await sendEventStream(request, response, (context) => figures.counted(market(context)), {
        retry: 1000,
        ...figures.streamHooks('market', path),
      })
      return
    }
    if (method === 'GET' && path === '/events/figures') {
      await sendEventStream(request, response, figuresSource, {
        ...figures.streamHooks('figures', path),
      })
      return
    }
    if (method === 'GET' && path === '/api/figures')
      return sendJson(response, 200, figures.snapshot())
    if (method === 'POST' && path === '/api/chat') return startChat(request, response)
    if (chat !== null) {
      const [, conversationId = '', action] = chat
      if (!conversationIdPattern.test(conversationId)) {
        throw new HttpError(400, 'bad conversation id')
      }
      if (action === 'stream' && method === 'GET') {
        return resumeChat(request, response, conversationId)
      }
      if (action === 'drop' && method === 'POST') return dropChat(response, conversationId)
      throw new HttpError(405, 'method not allowed')
    }
    throw new HttpError(404, 'not found')
  }

  async function* figuresSource({ signal }: { signal: AbortSignal }): AsyncGenerator<SseEvent> {
    while (!signal.aborted) {
      yield { event: 'figures', data: figures.snapshot() }
      await sleep(1000, signal)
    }
  }

  return {
    handle(request, response) {
      route(request, response).catch((error: unknown) => {
        if (error instanceof HttpError) {
          // 413 and friends may leave body bytes unread: close rather than reuse the connection.
          const close = error.status === 413 ? { connection: 'close' } : {}
          sendJson(response, error.status, { error: error.message }, close)
          return
        }
        if (SseError.isInstance(error)) {
          const status = error.code === 'unauthorized' ? 403 : 503
          sendJson(response, status, { error: error.code })
          return
        }
        log.error({ msg: 'request failed', url: request.url, error: String(error) })
        sendJson(response, 500, { error: 'internal error' })
      })
    },
    stop() {
      generations.abort()
    },
  }
}
