import { type FetchEventStreamInit, fetchEventStream } from '@ssekit/fetch-client'

/** A client that keeps reading in the background and records what it got. */
export interface Collector {
  readonly data: string[]
  /** Connections this client opened (200 + text/event-stream). */
  readonly opens: number
  /** Times it opened a connection, in ms since the epoch. */
  readonly openedAt: number[]
  /** The error the stream ended with, if it ended. */
  readonly error: unknown
  close(): void
}

/** Starts a `fetchEventStream` client that records every event's data (events with data only). */
export function collect(url: string, init: FetchEventStreamInit = {}): Collector {
  const data: string[] = []
  const openedAt: number[] = []
  let error: unknown
  const client = fetchEventStream(url, {
    retryMs: 200,
    maxRetryMs: 1_000,
    ...init,
    onOpen: (response) => {
      openedAt.push(Date.now())
      init.onOpen?.(response)
    },
  })
  void (async () => {
    try {
      for await (const event of client) data.push(event.data)
    } catch (caught) {
      error = caught
    }
  })()
  return {
    data,
    openedAt,
    get opens() {
      return openedAt.length
    },
    get error() {
      return error
    },
    close: () => client.close(),
  }
}
