import { createEventStream, createHub } from '@ssekit/core'
import { describe, expect, it } from 'vitest'
import { withTimeout } from './_hub-suite.ts'

describe('hub.subscribe() as a createEventStream source', () => {
  it('streams the pre-encoded frames, and cancelling the stream unsubscribes', async () => {
    const hub = createHub()
    const stream = createEventStream(hub.subscribe('news'), { heartbeat: false })
    const reader = stream.getReader()
    const decoder = new TextDecoder()
    let text = ''
    const readUntil = (needle: string, label: string) =>
      withTimeout(
        (async () => {
          while (!text.includes(needle)) {
            const { done, value } = await reader.read()
            if (done) throw new Error(`stream ended before ${needle}`)
            text += decoder.decode(value, { stream: true })
          }
        })(),
        5000,
        label,
      )
    await readUntil('\n\n', 'opening bytes')
    await withTimeout(
      (async () => {
        while (hub.stats().subscribers === 0) await new Promise((resolve) => setTimeout(resolve, 1))
      })(),
      5000,
      'subscribed',
    )
    const first = await hub.publish('news', { event: 'headline', data: { title: 'one' } })
    const second = await hub.publish('news', { data: 'two\nlines' })
    await readUntil(`id: ${second}\ndata: two\ndata: lines\n\n`, 'two events')
    expect(text).toContain(`event: headline\nid: ${first}\ndata: {"title":"one"}\n\n`)
    // The id-only block came before the first event.
    expect(text.indexOf(`id: ${first.split('-')[0]}-0\n\n`)).toBeGreaterThanOrEqual(0)
    await reader.cancel()
    await withTimeout(
      (async () => {
        while (hub.stats().subscribers !== 0) await new Promise((resolve) => setTimeout(resolve, 1))
      })(),
      5000,
      'unsubscribed after cancel',
    )
    expect(hub.stats()).toMatchObject({ subscribers: 0, topics: 0, queuedBytes: 0 })
    await hub.close()
  })
})
