// POST /chat starts an answer and streams it; GET /chat/<id> + Last-Event-ID resumes it.
// The generation writes into a hub topic, not into the response, so it never runs twice.
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { createHub, lastEventIdFrom, type SseEvent } from '@ssekit/core'
import { sendEventStream } from '@ssekit/node'

const port = Number(process.env['PORT'] ?? 3005)
const hub = createHub({ history: { maxAge: 10 * 60_000 } })

async function generate(topic: string, prompt: string): Promise<void> {
  const words = `You asked: "${prompt}". This answer keeps being generated on the server whatever happens to your connection, and a GET with Last-Event-ID picks it up where it broke.`
  for (const [index, text] of words.split(/(?= )/).entries()) {
    await hub.publish(topic, { event: 'token', data: { index, text } })
    await sleep(60)
  }
  await hub.publish(topic, { event: 'done', data: null })
}

async function* untilDone(events: AsyncIterable<SseEvent>): AsyncGenerator<SseEvent> {
  for await (const event of events) {
    yield event
    if (event.event === 'done' || event.event === 'reset') return
  }
}

createServer(async (request, response) => {
  const url = new URL(request.url ?? '/', 'http://localhost')
  if (request.method === 'POST' && url.pathname === '/chat') {
    let body = ''
    for await (const chunk of request) {
      body += chunk
      if (body.length > 4096) return void response.writeHead(413).end()
    }
    const prompt = promptOf(body)
    if (prompt === undefined) {
      return void response.writeHead(400).end('send JSON like {"prompt": "Hello"}\n')
    }
    const id = randomUUID()
    const events = hub.subscribe(`chat:${id}`) // subscribed before the first token exists
    await events.ready
    void generate(`chat:${id}`, prompt)
    // ?dropAfterMs=N cuts the connection mid-answer, as a flaky network would.
    const dropAfter = Number(url.searchParams.get('dropAfterMs'))
    if (dropAfter > 0) setTimeout(() => response.destroy(), dropAfter)
    return void sendEventStream(request, response, untilDone(events), {
      headers: { 'x-chat-id': id },
    })
  }
  const resume = /^\/chat\/([\w-]{36})$/.exec(url.pathname)
  if (request.method === 'GET' && resume !== null) {
    const lastEventId = lastEventIdFrom(request)
    const events = hub.subscribe(`chat:${resume[1]}`, { lastEventId })
    return void sendEventStream(request, response, untilDone(events))
  }
  response.writeHead(404).end()
}).listen(port, '127.0.0.1', () =>
  console.log(
    `POST http://127.0.0.1:${port}/chat, or: npm run client -w @ssekit/example-llm-resume`,
  ),
)

/** The prompt of a request body, or `undefined` when the body is not JSON with a string `prompt`. */
function promptOf(body: string): string | undefined {
  try {
    const prompt = (JSON.parse(body) as { prompt?: unknown } | null)?.prompt
    return typeof prompt === 'string' ? prompt.slice(0, 200) : undefined
  } catch {
    return undefined
  }
}
