import type { CloseReason, EventStreamHooks, Hub, HubHooks } from '@ssekit/core'
import type { Logger } from './log.ts'
import type { FiguresSnapshot } from './protocol.ts'

/**
 * The live server figures: stream hooks (`onOpen`, `onClose`) and hub hooks feed counters, and
 * `snapshot()` adds the hub's own `stats()`.
 */
export class Figures {
  readonly instance: string
  readonly hubKind: 'memory' | 'redis'
  hub: Hub | undefined
  eventsSent = 0
  chatPosts = 0
  chatResumes = 0
  generationsRunning = 0
  private readonly openByKind: Record<string, number> = {}
  private readonly closed: Partial<Record<CloseReason, number>> = {}
  private readonly startedAt = Date.now()
  private lastSample = { at: Date.now(), events: 0, rate: 0 }
  private readonly log: Logger

  constructor(instance: string, hubKind: 'memory' | 'redis', log: Logger) {
    this.instance = instance
    this.hubKind = hubKind
    this.log = log
  }

  /** The stream hooks of one kind of stream: count, and log every open and close. */
  streamHooks(kind: string, path: string): EventStreamHooks {
    return {
      onOpen: ({ lastEventId }) => {
        this.openByKind[kind] = (this.openByKind[kind] ?? 0) + 1
        this.log.info({ msg: 'stream open', kind, path, lastEventId: lastEventId ?? null })
      },
      onClose: ({ reason, events, bytes, durationMs }) => {
        this.openByKind[kind] = (this.openByKind[kind] ?? 1) - 1
        this.closed[reason] = (this.closed[reason] ?? 0) + 1
        this.log.info({ msg: 'stream close', kind, path, reason, events, bytes, durationMs })
      },
    }
  }

  /** The hub hooks: every replay is logged, so a resume shows up in the server log. */
  hubHooks(): HubHooks {
    return {
      onReplay: ({ topic, hit, events, reason }) =>
        this.log.info({ msg: 'hub replay', topic, hit, events, reason: reason ?? null }),
      onDrop: ({ topic, dropped }) => this.log.warn({ msg: 'hub drop', topic, dropped }),
      onDisconnect: ({ topic, policy }) =>
        this.log.warn({ msg: 'slow subscriber disconnected', topic, policy }),
    }
  }

  /** Wraps a source so every event it yields is counted. */
  async *counted<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
    for await (const event of source) {
      this.eventsSent++
      yield event
    }
  }

  snapshot(): FiguresSnapshot {
    const now = Date.now()
    const elapsed = now - this.lastSample.at
    // Sampled at most once a second, so two panels polling at once still see a sensible rate.
    if (elapsed >= 900) {
      this.lastSample = {
        at: now,
        events: this.eventsSent,
        rate: ((this.eventsSent - this.lastSample.events) * 1000) / elapsed,
      }
    }
    const stats = this.hub?.stats()
    const openByKind = { ...this.openByKind }
    return {
      instance: this.instance,
      hub: this.hubKind,
      uptimeSeconds: Math.round((now - this.startedAt) / 1000),
      openStreams: Object.values(openByKind).reduce((sum, count) => sum + count, 0),
      openByKind,
      eventsPerSecond: Math.round(this.lastSample.rate * 10) / 10,
      eventsSent: this.eventsSent,
      closed: { ...this.closed },
      subscribers: stats?.subscribers ?? 0,
      topics: stats?.topics ?? 0,
      published: stats?.published ?? 0,
      drops: (stats?.drops ?? 0) + (stats?.disconnects ?? 0),
      replayHits: stats?.replayHits ?? 0,
      replayMisses: stats?.replayMisses ?? 0,
      chatPosts: this.chatPosts,
      chatResumes: this.chatResumes,
      generationsRunning: this.generationsRunning,
      memoryMb: Math.round(process.memoryUsage().rss / 1048576),
    }
  }
}
