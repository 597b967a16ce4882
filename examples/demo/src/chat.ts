import type { Hub, SseEvent } from '@ssekit/core'
import { sleep } from './_sleep.ts'
import type { ChatDone, ChatStart, ChatToken } from './protocol.ts'

const answers = [
  'Server-Sent Events are a plain HTTP response that never ends: the server writes data: lines, ' +
    'the browser turns each block into an event. Because every event can carry an id, a client that ' +
    'loses its connection comes back with Last-Event-ID and the server carries on from there. ' +
    'That is exactly what this answer does: reload the page or drop the connection, and the next ' +
    'token you see is the one after the last you got, while the generation keeps running on the server.',
  'A POST starts the generation, and the generation writes into a hub topic instead of into the ' +
    'response. The response is only one reader of that topic. When it breaks, a GET with ' +
    'Last-Event-ID becomes the next reader: the hub replays what was missed from its bounded ' +
    'history, then goes live, with no gap and no duplicate. Nothing is generated (or paid for) twice, ' +
    'and with Redis behind the hub the GET may even land on another server.',
  'Backpressure matters more than it looks. A client on a slow phone reads slower than a model ' +
    'writes, so a stream that ignores write() returning false buffers without bound. ssekit pulls ' +
    'from the source only while the socket has room, sends heartbeats only when nothing else was ' +
    'written, and gives every hub subscriber a bounded queue with an explicit policy when it falls behind.',
  'Proxies are the usual reason events arrive in batches. ssekit answers with Cache-Control: ' +
    'no-cache, no-transform and X-Accel-Buffering: no, disables Nagle, flushes the headers before ' +
    'the first event exists, and never sends Connection over HTTP/2. Put nginx in front with ' +
    'proxy_buffering off and the tokens still arrive one by one, like the ones you are reading now.',
]

/**
 * The fake model: a deterministic answer for a prompt, so a test can compare what a page shows
 * with what was generated.
 *
 * @example
 * ```ts
 * const tokens = tokenize(answerFor('What is SSE?'))
 * ```
 */
export function answerFor(prompt: string): string {
  let hash = 2166136261
  for (let index = 0; index < prompt.length; index++) {
    hash = Math.imul(hash ^ prompt.charCodeAt(index), 16777619)
  }
  const quoted = prompt.length > 60 ? `${prompt.slice(0, 57)}...` : prompt
  return `You asked: "${quoted}". ${answers[(hash >>> 0) % answers.length]}`
}

/** Splits an answer into word-sized tokens, each with its leading whitespace, as a model streams them. */
export function tokenize(text: string): string[] {
  return text.match(/\s*\S+/g) ?? []
}

export interface GenerationOptions {
  /** Mean milliseconds between tokens (each is drawn around it, with longer pauses after punctuation). @defaultValue 45 */
  tokenMs?: number | undefined
  /** Stops the generation (on shutdown). */
  signal?: AbortSignal | undefined
}

/**
 * Runs a generation into the hub topic `topic`: a `start` event, one `token` event per token,
 * then `done`. It runs to the end whoever listens, so readers can come and go.
 *
 * @example
 * ```ts
 * await generate(hub, 'chat:42', '42', 'Why SSE?', { tokenMs: 40 })
 * ```
 */
export async function generate(
  hub: Hub,
  topic: string,
  conversationId: string,
  prompt: string,
  options: GenerationOptions = {},
): Promise<void> {
  const tokenMs = options.tokenMs ?? 45
  const answer = answerFor(prompt)
  const tokens = tokenize(answer)
  const publish = (event: SseEvent): Promise<string> => hub.publish(topic, event)

  await publish({
    event: 'start',
    data: { conversationId, prompt, tokens: tokens.length } satisfies ChatStart,
  })
  // "Time to first token": models think before they speak.
  await sleep(tokenMs * 6, options.signal)
  for (const [index, text] of tokens.entries()) {
    if (options.signal?.aborted || hub.closed) return
    await publish({ event: 'token', data: { index, text } satisfies ChatToken })
    const pause = /[.,:;!?]$/.test(text) ? 3 + Math.random() * 3 : 0.4 + Math.random() * 1.2
    await sleep(tokenMs * pause, options.signal)
  }
  await publish({
    event: 'done',
    data: { tokens: tokens.length, chars: answer.length } satisfies ChatDone,
  })
}
