// honojs/hono #3765: streamSSE gives no access to Last-Event-ID. sse() hands it to the source.
import { sse } from '@ssekit/hono'
import { Hono } from 'hono'
import { expect, test } from 'vitest'

function resumingApp(seen: (string | undefined)[]): Hono {
  const app = new Hono()
  app.get('/events', (c) =>
    sse(c, function* ({ lastEventId }) {
      seen.push(lastEventId)
      for (let id = Number(lastEventId ?? 0) + 1; id <= 5; id++) yield { id: String(id), data: id }
    }),
  )
  return app
}

const ids = (body: string) => [...body.matchAll(/^id: (.*)$/gm)].map((match) => match[1])

test('the Last-Event-ID header reaches the source, which resumes after it', async () => {
  const seen: (string | undefined)[] = []
  const response = await resumingApp(seen).request('/events', {
    headers: { 'last-event-id': '3' },
  })
  expect(ids(await response.text())).toEqual(['4', '5'])
  expect(seen).toEqual(['3'])
})

test('the lastEventId query parameter works for clients that cannot set headers', async () => {
  const seen: (string | undefined)[] = []
  const response = await resumingApp(seen).request('/events?lastEventId=2')
  expect(ids(await response.text())).toEqual(['3', '4', '5'])
  expect(seen).toEqual(['2'])
})

test('a first connection has no last event id', async () => {
  const seen: (string | undefined)[] = []
  const response = await resumingApp(seen).request('/events')
  expect(ids(await response.text())).toEqual(['1', '2', '3', '4', '5'])
  expect(seen).toEqual([undefined])
})

test('an explicit lastEventId option wins over the request', async () => {
  const app = new Hono()
  let seen: string | undefined
  app.get('/events', (c) =>
    sse(
      c,
      ({ lastEventId }) => {
        seen = lastEventId
        return []
      },
      { lastEventId: 'from-session' },
    ),
  )
  await (await app.request('/events', { headers: { 'last-event-id': '9' } })).text()
  expect(seen).toBe('from-session')
})
