import { createHub, type SseEvent } from '@ssekit/core'
import { describe, expect, it } from 'vitest'
import { answerFor, generate, tokenize } from '../src/chat.ts'

describe('the fake model', () => {
  it('answers a prompt the same way every time, and its tokens join back into the answer', () => {
    const answer = answerFor('What is SSE?')
    expect(answerFor('What is SSE?')).toBe(answer)
    expect(answer.startsWith('You asked: "What is SSE?".')).toBe(true)
    expect(tokenize(answer).join('')).toBe(answer)
  })

  it('publishes start, every token in order, then done, into the hub topic', async () => {
    const hub = createHub()
    const subscription = hub.subscribe('chat:t')
    await subscription.ready
    const done = generate(hub, 'chat:t', 't', 'Why?', { tokenMs: 0 })
    const events: SseEvent[] = []
    for await (const event of subscription) {
      if (event.event !== undefined) events.push(event)
      if (event.event === 'done') break
    }
    await done
    await hub.close()
    // The hub hands out events as stored: data already serialised to JSON.
    const data = events.map((event) => JSON.parse(event.data as string))
    const tokens = tokenize(answerFor('Why?'))
    expect(events.map((event) => event.event)).toEqual([
      'start',
      ...tokens.map(() => 'token'),
      'done',
    ])
    expect(data[0]).toEqual({ conversationId: 't', prompt: 'Why?', tokens: tokens.length })
    expect(data.slice(1, -1)).toEqual(tokens.map((text, index) => ({ index, text })))
    expect(data.at(-1)).toEqual({ tokens: tokens.length, chars: answerFor('Why?').length })
  })
})
