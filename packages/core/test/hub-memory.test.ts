import { createHub } from '@ssekit/core'
import { describe, expect, it } from 'vitest'
import { describeHubConformance, take } from './_hub-suite.ts'

describeHubConformance('memory', {
  createHub: async (options) => createHub(options),
  // Well-formed, but from another hub's epoch (another process, or an earlier run).
  foreignId: 'zzzzzzzz-1',
})

describe('memory hub', () => {
  it('evicts history by bytes and by age', async () => {
    const hub = createHub({ history: { maxBytes: 200, maxAge: 60_000 } })
    const ids: string[] = []
    for (let index = 0; index < 10; index++)
      ids.push(await hub.publish('t', { data: 'x'.repeat(50) }))
    const old = hub.subscribe('t', { lastEventId: ids[2] })
    const [reset] = await take(old, 1, 'reset by bytes')
    expect(reset).toMatchObject({ event: 'reset', id: ids[9] })
    const recent = hub.subscribe('t', { lastEventId: ids[7] })
    expect((await take(recent, 2, 'replay within bytes')).map((event) => event.id)).toEqual(
      ids.slice(8),
    )
    await hub.close()

    const aging = createHub({ history: { maxAge: 1 } })
    const first = await aging.publish('t', { data: 'old' })
    const second = await aging.publish('t', { data: 'old too' })
    await new Promise((resolve) => setTimeout(resolve, 20))
    const third = await aging.publish('t', { data: 'new' })
    // `second` aged out, so resuming after `first` would silently skip it: reset.
    const late = aging.subscribe('t', { lastEventId: first })
    const [event] = await take(late, 1, 'age')
    expect(event).toMatchObject({ event: 'reset', id: third })
    // Resuming after `second` misses nothing: the replay is exact, not a reset.
    const exact = aging.subscribe('t', { lastEventId: second })
    expect((await take(exact, 1, 'exact'))[0]).toMatchObject({ id: third, data: 'new' })
    await aging.close()
  })

  it('keeps delivering to everyone when a hook throws, and reports the error', async () => {
    const reported: unknown[] = []
    const global = globalThis as { reportError?: ((error: unknown) => void) | undefined }
    const original = global.reportError
    global.reportError = (error) => reported.push(error)
    try {
      const hub = createHub({
        onDrop: () => {
          throw new Error('broken metrics')
        },
      })
      const dropping = hub.subscribe('t', { queue: { maxEvents: 1, policy: 'drop-oldest' } })
      const others = [hub.subscribe('t'), hub.subscribe('t')]
      for (const subscription of [dropping, ...others]) await subscription.ready
      for (const subscription of others) await take(subscription, 1, 'head')
      const id = await hub.publish('t', { data: 'x' })
      for (const subscription of others)
        expect((await take(subscription, 1, 'event'))[0]?.id).toBe(id)
      expect(reported).toEqual([new Error('broken metrics')])
      await hub.close()
    } finally {
      global.reportError = original
    }
  })

  it('rejects history bounds that cannot work', () => {
    expect(() => createHub({ history: { maxEvents: 0 } })).toThrow(/history.maxEvents/)
    expect(() => createHub({ history: { maxAge: -1 } })).toThrow(/history.maxAge/)
    expect(() => createHub({ history: { maxBytes: 1.5 } })).toThrow(/history.maxBytes/)
  })

  it('does not let ids of a topic that had events be reused after its subscribers leave', async () => {
    const hub = createHub()
    const subscription = hub.subscribe('t')
    const [head] = await take(subscription, 1, 'head')
    const id = await hub.publish('t', { data: 'one' })
    await subscription.return()
    const again = hub.subscribe('t', { lastEventId: head?.id })
    expect((await take(again, 1, 'resume'))[0]?.id).toBe(id)
    await hub.close()
  })
})
