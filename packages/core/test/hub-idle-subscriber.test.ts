import { createHub, type SseEvent } from '@ssekit/core'
import { describe, expect, it } from 'vitest'
import { withTimeout } from './_helpers.ts'

// Issue 7 (fan-out memory): a subscription of the in-memory hub without a resume point starts
// within subscribe(), holding no promise, and keeps its queue in a slot until a second event waits.
describe('a memory hub subscription without lastEventId', () => {
  it('is live at once: a publish right after subscribe() reaches it, after the id-only block', async () => {
    const hub = createHub()
    const events = hub.subscribe('news')[Symbol.asyncIterator]()
    const id = await hub.publish('news', { data: 'right after' })
    const first = await withTimeout(events.next(), 1_000, 'the id-only block')
    const second = await withTimeout(events.next(), 1_000, 'the event published right after')
    expect(first.value).toMatchObject({ id: expect.any(String) })
    expect(first.value?.data).toBeUndefined()
    expect(second.value).toMatchObject({ id, data: 'right after' })
    await hub.close()
  })

  it('has a settled ready, and reports onSubscribe after subscribe() returned', async () => {
    const calls: string[] = []
    const hub = createHub({ onSubscribe: ({ topic }) => calls.push(`onSubscribe ${topic}`) })
    const subscription = hub.subscribe('news')
    calls.push('returned')
    await withTimeout(subscription.ready, 1_000, 'ready')
    expect(calls).toEqual(['returned', 'onSubscribe news'])
    expect(hub.stats().subscribers).toBe(1)
    await hub.close()
  })

  it('queues what nobody reads in order, and drop-oldest drops from the front', async () => {
    const hub = createHub({ queue: { maxEvents: 3, policy: 'drop-oldest' } })
    const events = hub.subscribe('news')[Symbol.asyncIterator]()
    for (let index = 1; index <= 5; index++) await hub.publish('news', { data: `e${index}` })
    const read: SseEvent[] = []
    for (let index = 0; index < 3; index++) {
      read.push((await withTimeout(events.next(), 1_000, `event ${index}`)).value as SseEvent)
    }
    // The id-only block and e1 were dropped (3 events fit); the gap notice says how many.
    expect(read.map((event) => event.event ?? event.data)).toEqual(['gap', 'e3', 'e4'])
    expect(JSON.parse(read[0]?.data as string)).toEqual({ dropped: 3 })
    expect(((await withTimeout(events.next(), 1_000, 'e5')).value as SseEvent).data).toBe('e5')
    await hub.close()
  })
})
