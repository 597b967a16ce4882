import type { EventMap } from '@ssekit/core'
import { createTypedSse } from '@ssekit/hono'
import { Hono } from 'hono'
import { expect, test } from 'vitest'

interface ChatEvents extends EventMap {
  message: { text: string }
  typing: { user: string }
}

test('a typed endpoint streams its declared events', async () => {
  const chatEvents = createTypedSse<ChatEvents>()
  const app = new Hono()
  app.get('/chat', (c) =>
    chatEvents(c, function* () {
      yield { event: 'typing', data: { user: 'ada' } }
      yield { data: { text: 'hello' } }
      yield { event: 'message', id: '7', data: { text: 'again' } }
      yield { comment: 'still here' }
    }),
  )
  const body = await (await app.request('/chat')).text()
  expect(body).toContain('event: typing\ndata: {"user":"ada"}\n\n')
  expect(body).toContain('data: {"text":"hello"}\n\n')
  expect(body).toContain('event: message\nid: 7\ndata: {"text":"again"}\n\n')
  expect(body).toContain(': still here\n\n')
})

type ChatSource = Parameters<ReturnType<typeof createTypedSse<ChatEvents>>>[1]

test('undeclared events and wrong payloads do not compile', () => {
  // @ts-expect-error: 'typo' is not an event of ChatEvents
  const typo: ChatSource = [{ event: 'typo', data: { text: 'x' } }]
  // @ts-expect-error: typing carries { user }, not { text }
  const wrongData: ChatSource = [{ event: 'typing', data: { text: 'x' } }]
  // @ts-expect-error: an unnamed event is a message, which needs its data
  const noData: ChatSource = [{ id: '1' }]
  const fine: ChatSource = [{ data: { text: 'x' } }, { event: 'typing', data: { user: 'ada' } }]
  type AliasSource = Parameters<ReturnType<typeof createTypedSse<{ ping: number }>>>[1]
  const alias: AliasSource = [{ event: 'ping', data: 1 }]
  // @ts-expect-error: a type alias map is closed too
  const aliasTypo: AliasSource = [{ event: 'pong', data: 1 }]
  expect([typo, wrongData, noData, fine, alias, aliasTypo]).toHaveLength(6)
})
