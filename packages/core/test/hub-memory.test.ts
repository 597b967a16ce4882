import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { createHub, type Hub, type HubHooks, type HubQueuePolicy } from '@ssekit/core'
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

  it.each([
    ['onUnsubscribe', 'disconnect'],
    ['onDisconnect', 'disconnect'],
    ['onDrop', 'drop-oldest'],
  ] as const satisfies readonly (readonly [keyof HubHooks, HubQueuePolicy])[])(
    'delivers in id order to everyone when %s publishes to the topic during a fan-out',
    async (hookName, policy) => {
      let published = false
      const hub: Hub = createHub({
        // A presence notice, published from inside the fan-out of the event that cut `slow` off.
        [hookName]: () => {
          if (published) return
          published = true
          void hub.publish('room', { event: 'presence', data: 'left 1' })
          void hub.publish('room', { event: 'presence', data: 'left 2' })
        },
      })
      // First in the topic's fan-out, with room for its id-only block only: the first event
      // overflows it.
      hub.subscribe('room', { queue: { maxEvents: 1, policy } })
      const reader = hub.subscribe('room')
      for (let index = 1; index <= 3; index++) await hub.publish('room', { data: `m${index}` })
      const events = (await take(reader, 6, 'reader')).slice(1)
      expect(events.map((event) => event.data)).toEqual(['m1', 'left 1', 'left 2', 'm2', 'm3'])
      const sequences = events.map((event) => Number(event.id?.split('-')[1]))
      expect(sequences).toEqual([...sequences].sort((a, b) => a - b))
      await hub.close()
    },
  )

  // V8 keeps every entry deleted from a Map alive while an iterator over that Map is alive and not
  // advanced; the memory backend once kept such an iterator for its age sweep, advanced only by
  // publish(), so quiet topics that came and went between publishes piled up (150 B each).
  it('holds no Map iterator between calls', async () => {
    const unfinished = new Set<Iterator<unknown>>()
    const prototype = Map.prototype as unknown as Record<PropertyKey, () => Iterator<unknown>>
    const names = ['keys', 'values', 'entries', Symbol.iterator] as const
    const originals = names.map((name) => prototype[name] as () => Iterator<unknown>)
    names.forEach((name, index) => {
      const original = originals[index] as () => Iterator<unknown>
      prototype[name] = function (this: Map<unknown, unknown>) {
        const iterator = original.call(this)
        const next = iterator.next
        unfinished.add(iterator)
        iterator.next = () => {
          const result = next.call(iterator)
          if (result.done === true) unfinished.delete(iterator)
          return result
        }
        return iterator
      }
    })
    let hub: Hub | undefined
    try {
      // Synchronous from here on, so every Map iterator made meanwhile is the hub's.
      hub = createHub({ history: { maxAge: 1 } })
      for (let cycle = 0; cycle < 100; cycle++) {
        void hub.subscribe(`quiet-${cycle % 10}`).return()
        if (cycle % 25 === 0) void hub.publish(`busy-${cycle % 3}`, { data: 'x' })
      }
      void hub.subscribe('quiet-1').return()
    } finally {
      names.forEach((name, index) => {
        prototype[name] = originals[index] as () => Iterator<unknown>
      })
    }
    expect(unfinished.size).toBe(0)
    await hub?.close()
  })

  it('keeps the heap flat while quiet topics come and go with no publish', () => {
    const gc = collectGarbage()
    const hub = createHub()
    gc()
    const before = process.memoryUsage().heapUsed
    for (let cycle = 0; cycle < 200_000; cycle++) void hub.subscribe(`user:${cycle % 10}`).return()
    gc()
    const grown = process.memoryUsage().heapUsed - before
    // Holding deleted entries, this grew by about 30 MB.
    expect(grown).toBeLessThan(4 * 1024 * 1024)
    expect(hub.stats()).toMatchObject({ topics: 0, subscribers: 0 })
    void hub.close()
  })
})

/** `gc()`, exposed at run time when the process was started without `--expose-gc`. */
function collectGarbage(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc
  if (typeof exposed === 'function') return exposed
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}
