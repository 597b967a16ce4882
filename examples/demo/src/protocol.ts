/**
 * The data of every event the demo sends, shared by the server and the page's script (which
 * imports these types only, so this file stays free of Node and DOM APIs).
 */

/** `event: tick` on `/events/market`: every symbol's price at tick `n` (the event's id). */
export interface MarketTick {
  n: number
  at: string
  prices: Record<string, number>
}

/** `event: reset`: the `Last-Event-ID` sent cannot be resumed from (unknown, or too old). */
export interface ResetData {
  reason: 'unknown' | 'evicted'
}

/** `event: start`, the first event of a chat answer. */
export interface ChatStart {
  conversationId: string
  prompt: string
  tokens: number
}

/** `event: token`: one token of the answer; `index` counts from 0. */
export interface ChatToken {
  index: number
  text: string
}

/** `event: done`, the last event of a chat answer. */
export interface ChatDone {
  tokens: number
  chars: number
}

/** `event: figures` on `/events/figures` (and `GET /api/figures`): the live server figures. */
export interface FiguresSnapshot {
  instance: string
  hub: 'memory' | 'redis'
  uptimeSeconds: number
  /** Event streams open now, and by kind (`market`, `chat`, `chat-resume`, `figures`). */
  openStreams: number
  openByKind: Record<string, number>
  /** Events written to clients per second, over the last sample, and in all. */
  eventsPerSecond: number
  eventsSent: number
  /** Streams ended, by why (`end`, `cancel`: the client left, `shutdown`...). */
  closed: Record<string, number>
  /** From the hub's `stats()`. */
  subscribers: number
  topics: number
  published: number
  /** Events dropped plus subscribers disconnected for falling behind. */
  drops: number
  replayHits: number
  replayMisses: number
  chatPosts: number
  chatResumes: number
  generationsRunning: number
  memoryMb: number
}
