// The behaviour every Hub backend must have, written once and run against the memory hub
// (hub-memory.test.ts) and the Redis hub (packages/redis/test/redis-hub.test.ts).
import { getEventListeners } from 'node:events'
import { type Hub, type HubOptions, SseError, type SseEvent } from '@ssekit/core'
import { afterEach, describe, expect, it } from 'vitest'

export function withTimeout<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms: ${label}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** The next `count` events of an iterator, failing after `ms`. */
export async function take(
  iterator: AsyncIterator<SseEvent>,
  count: number,
  label: string,
  ms = 5000,
): Promise<SseEvent[]> {
  const events: SseEvent[] = []
  await withTimeout(
    (async () => {
      while (events.length < count) {
        const result = await iterator.next()
        if (result.done)
          throw new Error(`${label}: ended after ${events.length} of ${count} events`)
        events.push(result.value)
      }
    })(),
    ms,
    `${label} (${events.length}/${count} events)`,
  )
  return events
}

const frameKey = Symbol.for('ssekit.frame')

export interface HubBackendUnderTest {
  /** A fresh hub over fresh storage (each test gets new topics too). */
  createHub(options?: Omit<HubOptions, 'backend'>): Promise<Hub>
  /** An id well-formed for this backend but never issued by it. */
  foreignId: string
}

let topicCounter = 0
const freshTopic = (name: string) => `${name}-${process.pid}-${Date.now()}-${++topicCounter}`

export function describeHubConformance(name: string, backend: HubBackendUnderTest): void {
  describe(`Hub conformance: ${name}`, () => {
    const hubs: Hub[] = []
    const open = async (options?: Omit<HubOptions, 'backend'>) => {
      const hub = await backend.createHub(options)
      hubs.push(hub)
      return hub
    }
    afterEach(async () => {
      await Promise.all(hubs.splice(0).map((hub) => withTimeout(hub.close(), 5000, 'hub.close()')))
    })

    it('starts with an id-only block, then delivers live events in order, sharing one frame', async () => {
      const hub = await open()
      const topic = freshTopic('order')
      const first = hub.subscribe(topic)
      const second = hub.subscribe(topic)
      await withTimeout(Promise.all([first.ready, second.ready]), 5000, 'ready')
      const [head] = await take(first, 1, 'first head')
      expect(Object.keys(head as SseEvent)).toEqual(['id'])
      expect(typeof head?.id).toBe('string')
      await take(second, 1, 'second head')
      const ids: string[] = []
      for (let index = 1; index <= 30; index++) {
        ids.push(await hub.publish(topic, { event: 'tick', data: { index } }))
      }
      expect(new Set(ids).size).toBe(30)
      const a = await take(first, 30, 'first live')
      const b = await take(second, 30, 'second live')
      expect(a.map((event) => event.id)).toEqual(ids)
      expect(a.map((event) => event.data)).toEqual(
        ids.map((_, index) => JSON.stringify({ index: index + 1 })),
      )
      expect(a[0]?.event).toBe('tick')
      // Encoded once: both subscribers hold the very same bytes.
      const frameA = (a[5] as unknown as Record<symbol, Uint8Array>)[frameKey]
      const frameB = (b[5] as unknown as Record<symbol, Uint8Array>)[frameKey]
      expect(frameA).toBeInstanceOf(Uint8Array)
      expect(frameA).toBe(frameB)
      expect(new TextDecoder().decode(frameA)).toBe(
        `event: tick\nid: ${ids[5]}\ndata: {"index":6}\n\n`,
      )
    })

    it('replays the events after lastEventId, then continues live', async () => {
      const hub = await open()
      const topic = freshTopic('replay')
      const ids: string[] = []
      for (let index = 1; index <= 10; index++)
        ids.push(await hub.publish(topic, { data: `e${index}` }))
      const subscription = hub.subscribe(topic, { lastEventId: ids[3] })
      const replayed = await take(subscription, 6, 'replay')
      expect(replayed.map((event) => event.data)).toEqual(['e5', 'e6', 'e7', 'e8', 'e9', 'e10'])
      const eleventh = await hub.publish(topic, { data: 'e11' })
      const [live] = await take(subscription, 1, 'live after replay')
      expect(live).toMatchObject({ id: eleventh, data: 'e11' })
      expect(hub.stats().replayHits).toBe(1)
    })

    it('lets a client that dropped before any event resume from the id-only block without loss', async () => {
      const hub = await open()
      const topic = freshTopic('first-connect')
      const first = hub.subscribe(topic)
      const [head] = await take(first, 1, 'head')
      await first.return()
      await hub.publish(topic, { data: 'missed-1' })
      await hub.publish(topic, { data: 'missed-2' })
      const again = hub.subscribe(topic, { lastEventId: head?.id })
      const events = await take(again, 2, 'resume')
      expect(events.map((event) => event.data)).toEqual(['missed-1', 'missed-2'])
    })

    it('has no gap and no duplicate when publishes race subscribes', async () => {
      const hub = await open()
      const topic = freshTopic('race')
      const total = 200
      const ids: string[] = []
      const started: { iterator: ReturnType<Hub['subscribe']>; after: number }[] = []
      for (let index = 1; index <= total; index++) {
        // Subscribe without awaiting, so the subscription's read overlaps the next publishes.
        if (index % 20 === 0) {
          started.push({
            iterator: hub.subscribe(topic, { lastEventId: ids[index - 11] }),
            after: index - 10,
          })
          started.push({ iterator: hub.subscribe(topic), after: -1 })
        }
        ids.push(await hub.publish(topic, { data: String(index) }))
      }
      for (const { iterator, after } of started) {
        if (after >= 0) {
          const events = await take(iterator, total - after, `resumed after ${after}`)
          expect(events.map((event) => event.id)).toEqual(ids.slice(after))
        } else {
          const [head] = await take(iterator, 1, 'head')
          const position = ids.indexOf(head?.id as string)
          expect(position).toBeGreaterThanOrEqual(0)
          const rest = await take(iterator, total - position - 1, `live after ${position}`)
          expect(rest.map((event) => event.id)).toEqual(ids.slice(position + 1))
        }
        await iterator.return()
      }
    })

    it('sends a reset with the current id when lastEventId was evicted from history', async () => {
      const hub = await open({ history: { maxEvents: 5 } })
      const topic = freshTopic('evicted')
      const ids: string[] = []
      for (let index = 1; index <= 40; index++)
        ids.push(await hub.publish(topic, { data: String(index) }))
      const subscription = hub.subscribe(topic, { lastEventId: ids[0] })
      const [reset] = await take(subscription, 1, 'reset')
      expect(reset).toMatchObject({ event: 'reset', id: ids[39] })
      expect(JSON.parse(reset?.data as string)).toEqual({ reason: 'evicted' })
      const next = await hub.publish(topic, { data: '41' })
      const [live] = await take(subscription, 1, 'live after reset')
      expect(live).toMatchObject({ id: next, data: '41' })
      expect(hub.stats().replayMisses).toBe(1)
      // The last retained events still resume without a reset.
      const recent = hub.subscribe(topic, { lastEventId: ids[37] })
      const replayed = await take(recent, 3, 'recent replay')
      expect(replayed.map((event) => event.data)).toEqual(['39', '40', '41'])
    })

    it('treats unknown, malformed and oversized ids as unknown and sends a reset', async () => {
      const hub = await open()
      const topic = freshTopic('unknown')
      const head = await hub.publish(topic, { data: 'one' })
      for (const lastEventId of [
        'garbage',
        'x'.repeat(2000),
        'a\u0000b',
        'a\nb',
        backend.foreignId,
      ]) {
        const subscription = hub.subscribe(topic, { lastEventId })
        const [reset] = await take(subscription, 1, `reset for ${lastEventId.slice(0, 20)}`)
        expect(reset).toMatchObject({ event: 'reset', id: head })
        expect(JSON.parse(reset?.data as string)).toEqual({ reason: 'unknown' })
        await subscription.return()
      }
    })

    it('disconnects a slow subscriber (default policy) without slowing a fast one', async () => {
      const hub = await open({ queue: { maxEvents: 5 } })
      const topic = freshTopic('disconnect')
      const slow = hub.subscribe(topic)
      const fast = hub.subscribe(topic)
      await withTimeout(Promise.all([slow.ready, fast.ready]), 5000, 'ready')
      await take(fast, 1, 'fast head')
      const received: SseEvent[] = []
      const reading = (async () => {
        for await (const event of fast) {
          received.push(event)
          if (received.length === 20) break
        }
      })()
      for (let index = 1; index <= 20; index++) await hub.publish(topic, { data: String(index) })
      await withTimeout(reading, 5000, 'fast reader')
      expect(received.map((event) => event.data)).toEqual(
        Array.from({ length: 20 }, (_, index) => String(index + 1)),
      )
      await expect(withTimeout(slow.next(), 5000, 'slow next')).rejects.toSatisfy(
        (error) => SseError.isInstance(error) && error.code === 'queue-overflow',
      )
      expect(await slow.next()).toEqual({ done: true, value: undefined })
      expect(hub.stats()).toMatchObject({ disconnects: 1, subscribers: 0, queuedBytes: 0 })
    })

    it('drops the oldest events and says how many with a gap event (drop-oldest)', async () => {
      const hub = await open()
      const topic = freshTopic('drop')
      const subscription = hub.subscribe(topic, { queue: { maxEvents: 5, policy: 'drop-oldest' } })
      await withTimeout(subscription.ready, 5000, 'ready')
      await take(subscription, 1, 'head')
      for (let index = 1; index <= 20; index++) {
        await hub.publish(topic, { data: String(index) })
      }
      // Redis delivers asynchronously: wait until the last event reached the queue.
      await withTimeout(
        (async () => {
          while (hub.stats().drops < 15) await new Promise((resolve) => setTimeout(resolve, 5))
        })(),
        5000,
        'drops',
      )
      const queued = hub.stats().queuedBytes
      const events = await take(subscription, 6, 'after drops')
      expect(events[0]).toMatchObject({ event: 'gap' })
      expect(JSON.parse(events[0]?.data as string)).toEqual({ dropped: 15 })
      expect(events.slice(1).map((event) => event.data)).toEqual(['16', '17', '18', '19', '20'])
      const frames = events
        .slice(1)
        .map((event) => (event as unknown as Record<symbol, Uint8Array>)[frameKey]?.byteLength ?? 0)
      expect(queued).toBe(frames.reduce((sum, size) => sum + size, 0))
      expect(hub.stats()).toMatchObject({ drops: 15, queuedBytes: 0 })
    })

    it('bounds the queue in bytes too', async () => {
      const hub = await open()
      const topic = freshTopic('bytes')
      const subscription = hub.subscribe(topic, {
        queue: { maxBytes: 1000, policy: 'drop-oldest' },
      })
      await take(subscription, 1, 'head')
      const payload = 'x'.repeat(300)
      for (let index = 1; index <= 10; index++)
        await hub.publish(topic, { data: `${index}:${payload}` })
      await withTimeout(
        (async () => {
          while (hub.stats().drops < 7) await new Promise((resolve) => setTimeout(resolve, 5))
        })(),
        5000,
        'drops',
      )
      expect(hub.stats().queuedBytes).toBeLessThanOrEqual(1000)
      const events = await take(subscription, 4, 'after byte drops')
      expect(JSON.parse(events[0]?.data as string)).toEqual({ dropped: 7 })
      expect(events.slice(1).map((event) => (event.data as string).split(':')[0])).toEqual([
        '8',
        '9',
        '10',
      ])
    })

    it('lets a waiting subscriber catch up from history without loss or unbounded memory (wait)', async () => {
      const hub = await open()
      const topic = freshTopic('wait')
      const subscription = hub.subscribe(topic, {
        queue: { maxEvents: 5, policy: 'wait', waitTimeout: 10_000 },
      })
      await take(subscription, 1, 'head')
      const ids: string[] = []
      for (let index = 1; index <= 50; index++)
        ids.push(await hub.publish(topic, { data: String(index) }))
      expect(hub.stats().queuedBytes).toBeLessThanOrEqual(5 * 64)
      const events = await take(subscription, 50, 'catch up')
      expect(events.map((event) => event.id)).toEqual(ids)
      const live = await hub.publish(topic, { data: '51' })
      const [next] = await take(subscription, 1, 'live after catch-up')
      expect(next?.id).toBe(live)
      expect(hub.stats().disconnects).toBe(0)
    })

    it('delivers an event bigger than the whole byte bound on its own rather than never', async () => {
      const hub = await open()
      const topic = freshTopic('oversized')
      const waiting = hub.subscribe(topic, { queue: { maxBytes: 100, policy: 'wait' } })
      const dropping = hub.subscribe(topic, { queue: { maxBytes: 100, policy: 'drop-oldest' } })
      await withTimeout(Promise.all([waiting.ready, dropping.ready]), 5000, 'ready')
      const big = 'y'.repeat(1000)
      const id = await hub.publish(topic, { data: big })
      // Both still hold their id-only block, so the big event does not fit behind it.
      const [waitingHead, waitingBig] = await take(waiting, 2, 'waiting')
      expect(waitingHead?.data).toBeUndefined()
      expect(waitingBig).toMatchObject({ id, data: big })
      const afterDrop = await take(dropping, 2, 'dropping')
      expect(JSON.parse(afterDrop[0]?.data as string)).toEqual({ dropped: 1 })
      expect(afterDrop[1]).toMatchObject({ id, data: big })
    })

    it('disconnects a waiting subscriber that consumes nothing for waitTimeout', async () => {
      const hub = await open()
      const topic = freshTopic('wait-timeout')
      const subscription = hub.subscribe(topic, {
        queue: { maxEvents: 2, policy: 'wait', waitTimeout: 50 },
      })
      await take(subscription, 1, 'head')
      for (let index = 1; index <= 5; index++) await hub.publish(topic, { data: String(index) })
      await withTimeout(
        (async () => {
          while (hub.stats().disconnects === 0)
            await new Promise((resolve) => setTimeout(resolve, 10))
        })(),
        5000,
        'disconnect',
      )
      await expect(subscription.next()).rejects.toSatisfy(
        (error) => SseError.isInstance(error) && error.code === 'queue-overflow',
      )
    })

    it('refuses a topic the authorize hook denies, before reading anything', async () => {
      const seen: unknown[] = []
      const hub = await open({
        authorize: async ({ topic, request }) => {
          seen.push(request)
          return topic.endsWith(`:${(request as { user: string }).user}`)
        },
      })
      const base = freshTopic('user')
      const id = await hub.publish(`${base}:alice`, { data: 'private to alice' })
      const denied = hub.subscribe(`${base}:alice`, { lastEventId: id, request: { user: 'bob' } })
      await expect(withTimeout(denied.ready, 5000, 'denied ready')).rejects.toSatisfy(
        (error) => SseError.isInstance(error) && error.code === 'unauthorized',
      )
      await expect(denied.next()).rejects.toSatisfy(
        (error) => SseError.isInstance(error) && error.code === 'unauthorized',
      )
      expect(await denied.next()).toEqual({ done: true, value: undefined })
      const allowed = hub.subscribe(`${base}:alice`, { request: { user: 'alice' } })
      await withTimeout(allowed.ready, 5000, 'allowed ready')
      expect(seen).toEqual([{ user: 'bob' }, { user: 'alice' }])
      expect(hub.stats()).toMatchObject({ subscribers: 1, replayHits: 0 })
    })

    it('ends a subscription when its signal aborts, and on return()', async () => {
      const hub = await open()
      const topic = freshTopic('abort')
      const controller = new AbortController()
      const subscription = hub.subscribe(topic, { signal: controller.signal })
      await take(subscription, 1, 'head')
      const pending = subscription.next()
      controller.abort()
      expect(await withTimeout(pending, 5000, 'aborted next')).toEqual({
        done: true,
        value: undefined,
      })
      const aborted = new AbortController()
      aborted.abort()
      const never = hub.subscribe(topic, { signal: aborted.signal })
      expect(await withTimeout(never.next(), 5000, 'pre-aborted next')).toEqual({
        done: true,
        value: undefined,
      })
      expect(hub.stats()).toMatchObject({ subscribers: 0, topics: 0 })
    })

    it('close() ends every subscription and refuses later publishes', async () => {
      const hub = await open()
      const topic = freshTopic('close')
      const subscription = hub.subscribe(topic)
      await take(subscription, 1, 'head')
      const pending = subscription.next()
      await hub.close()
      expect(await withTimeout(pending, 5000, 'next after close')).toEqual({
        done: true,
        value: undefined,
      })
      expect(hub.closed).toBe(true)
      await expect(hub.publish(topic, { data: 'late' })).rejects.toSatisfy(
        (error) => SseError.isInstance(error) && error.code === 'closed',
      )
      const late = hub.subscribe(topic)
      expect(await late.next()).toEqual({ done: true, value: undefined })
    })

    it('ends a subscription whose authorize is pending at close() once it settles, unattached', async () => {
      let allow: ((allowed: boolean) => void) | undefined
      const hub = await open({
        authorize: () =>
          new Promise<boolean>((resolve) => {
            allow = resolve
          }),
      })
      const topic = freshTopic('close-authorizing')
      const pending = hub.subscribe(topic)
      const next = pending.next()
      await withTimeout(hub.close(), 5000, 'hub.close()')
      allow?.(true)
      const closed = (error: unknown) => SseError.isInstance(error) && error.code === 'closed'
      await expect(withTimeout(pending.ready, 5000, 'pending ready')).rejects.toSatisfy(closed)
      expect(await withTimeout(next, 5000, 'pending next')).toEqual({
        done: true,
        value: undefined,
      })
      expect(hub.stats()).toMatchObject({ topics: 0, subscribers: 0 })
      // A subscription made after close() is not authorised at all, and ends the same way.
      allow = undefined
      const late = hub.subscribe(topic)
      expect(allow).toBeUndefined()
      await expect(withTimeout(late.ready, 5000, 'late ready')).rejects.toSatisfy(closed)
      expect(await late.next()).toEqual({ done: true, value: undefined })
      expect(hub.stats()).toMatchObject({ topics: 0, subscribers: 0 })
    })

    it('rejects bad input with clear, typed errors', async () => {
      const hub = await open()
      const topic = freshTopic('input')
      await expect(hub.publish(topic, { id: '1', data: 'x' })).rejects.toThrow(TypeError)
      await expect(hub.publish('', { data: 'x' })).rejects.toThrow(/non-empty string/)
      await expect(hub.publish('a\nb', { data: 'x' })).rejects.toThrow(/control characters/)
      // The same answer from every backend (Redis needs the topic as UTF-8 for its key).
      await expect(hub.publish('lone\ud800', { data: 'x' })).rejects.toThrow(/lone surrogate/)
      expect(() => hub.subscribe('lone\udc00')).toThrow(/lone surrogate/)
      await expect(hub.publish(topic, null as unknown as SseEvent)).rejects.toThrow(TypeError)
      await expect(hub.publish(topic, { event: 'a\nb', data: 'x' })).rejects.toSatisfy(
        (error) =>
          SseError.isInstance(error) && error.code === 'invalid-field' && error.field === 'event',
      )
      expect(() => hub.subscribe(topic, { queue: { maxEvents: 0 } })).toThrow(/maxEvents/)
      expect(() =>
        hub.subscribe(topic, { queue: { policy: 'block' as unknown as 'wait' } }),
      ).toThrow(/policy/)
      expect(() => hub.subscribe(topic, { lastEventId: 5 as unknown as string })).toThrow(TypeError)
      expect(hub.stats()).toMatchObject({ published: 0, subscribers: 0 })
    })

    it('reports subscribes, replays, drops, disconnects and unsubscribes through its hooks', async () => {
      const calls: string[] = []
      const hub = await open({
        onSubscribe: ({ topic, subscribers }) =>
          calls.push(`subscribe ${topic.split('-')[0]} ${subscribers}`),
        onUnsubscribe: ({ reason, subscribers }) =>
          calls.push(`unsubscribe ${reason} ${subscribers}`),
        onReplay: ({ hit, events, reason }) =>
          calls.push(`replay ${hit} ${events} ${reason ?? ''}`),
        onDrop: ({ dropped }) => calls.push(`drop ${dropped}`),
        onDisconnect: ({ policy }) => calls.push(`disconnect ${policy}`),
      })
      const topic = freshTopic('hooks')
      const first = await hub.publish(topic, { data: '1' })
      const replaying = hub.subscribe(topic, { lastEventId: first })
      await withTimeout(replaying.ready, 5000, 'replaying ready')
      const missing = hub.subscribe(topic, { lastEventId: 'nope' })
      await withTimeout(missing.ready, 5000, 'missing ready')
      const dropping = hub.subscribe(topic, { queue: { maxEvents: 1, policy: 'drop-oldest' } })
      await withTimeout(dropping.ready, 5000, 'dropping ready')
      const cut = hub.subscribe(topic, { queue: { maxEvents: 1 } })
      await withTimeout(cut.ready, 5000, 'cut ready')
      await hub.publish(topic, { data: '2' })
      await withTimeout(
        (async () => {
          while (!calls.includes('disconnect disconnect'))
            await new Promise((resolve) => setTimeout(resolve, 5))
        })(),
        5000,
        'disconnect reported',
      )
      await replaying.return()
      expect(calls).toEqual([
        'replay true 0 ',
        'subscribe hooks 1',
        'replay false 0 unknown',
        'subscribe hooks 2',
        'subscribe hooks 3',
        'subscribe hooks 4',
        // The reset event waits in `missing`'s queue (bound 1000) and the id-only blocks in the
        // others' queues (bound 1): the new event pushes one out, and cuts the other off.
        'drop 1',
        'disconnect disconnect',
        'unsubscribe overflow 3',
        'unsubscribe return 2',
      ])
    })

    it('leaves nothing behind after 1000 subscribe/unsubscribe cycles', async () => {
      const hub = await open()
      const topic = freshTopic('cycles')
      // One long-lived signal (a server's shutdown signal, say) shared by every subscription.
      const shared = new AbortController()
      for (let cycle = 0; cycle < 1000; cycle++) {
        const subscription = hub.subscribe(cycle % 2 === 0 ? topic : `${topic}-${cycle % 7}`, {
          signal: shared.signal,
        })
        if (cycle % 3 === 0) await withTimeout(subscription.ready, 5000, `ready ${cycle}`)
        await subscription.return()
      }
      await withTimeout(
        (async () => {
          while (hub.stats().topics !== 0) await new Promise((resolve) => setTimeout(resolve, 5))
        })(),
        5000,
        'topics released',
      )
      expect(hub.stats()).toMatchObject({ topics: 0, subscribers: 0, queuedBytes: 0 })
      expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0)
      // The hub still works afterwards.
      const subscription = hub.subscribe(topic)
      await take(subscription, 1, 'head after cycles')
      const id = await hub.publish(topic, { data: 'still alive' })
      const [event] = await take(subscription, 1, 'live after cycles')
      expect(event?.id).toBe(id)
    })
  })
}
