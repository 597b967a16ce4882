import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { frameReader, withTimeout } from '@ssekit/test-support'
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { workerOptions } from '../scripts/worker-options.mjs'

/**
 * The example worker in real workerd (miniflare), over real HTTP on 127.0.0.1. Stream opens and
 * closes are counted by the worker's Durable Object and read back through `GET /stats`.
 */

interface Frame {
  fields: { id?: string; event?: string; data?: string; retry?: string }
  comment: boolean
}

/** Reads whole frames from a response body, one at a time, each read bounded. */
function frames(response: Response) {
  const reader = frameReader(response.body)
  return {
    async next(label: string): Promise<Frame | undefined> {
      const raw = await reader.next(label)
      if (raw === undefined) return undefined
      const fields: Record<string, string> = {}
      let comment = false
      for (const line of raw.split('\n')) {
        if (line.startsWith(':')) comment = true
        else {
          const colon = line.indexOf(':')
          fields[line.slice(0, colon)] = line.slice(colon + 2)
        }
      }
      return { fields: fields as Frame['fields'], comment }
    },
    cancel: () => reader.cancel(),
  }
}

let miniflare: Miniflare
let origin: string

beforeAll(async () => {
  await promisify(execFile)(process.execPath, ['scripts/build.mjs'], {
    cwd: new URL('..', import.meta.url),
  })
  miniflare = new Miniflare(workerOptions())
  origin = (await withTimeout(miniflare.ready, 15_000, 'workerd listens')).origin
})
afterAll(async () => {
  await miniflare?.dispose()
})

interface Counts {
  opened: number
  closed: number
}

/** Polls `/stats` (the Durable Object) until `done` accepts the counts, for at most 5 s. */
async function statsOnce(counter: string, done: (counts: Counts) => boolean): Promise<Counts> {
  const deadline = Date.now() + 5000
  for (;;) {
    const counts = (await (await fetch(`${origin}/stats?counter=${counter}`)).json()) as Counts
    if (done(counts) || Date.now() > deadline) return counts
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

describe('examples/workers on workerd', () => {
  test('answers with event-stream headers and no connection headers', async () => {
    const response = await withTimeout(fetch(`${origin}/events?interval=60000`), 5000, 'head')
    try {
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
      expect(response.headers.get('cache-control')).toBe('no-cache, no-transform')
      expect(response.headers.get('x-accel-buffering')).toBe('no')
      expect(response.headers.get('content-encoding')).toBeNull()
    } finally {
      await response.body?.cancel()
    }
  })

  test('sends its first bytes before the first event exists', async () => {
    // The first tick is a minute away; the opening `retry:` frame must not wait for it.
    const response = await withTimeout(fetch(`${origin}/events?interval=60000`), 5000, 'head')
    const stream = frames(response)
    try {
      const first = await stream.next('opening frame')
      expect(first?.fields).toEqual({ retry: '2000' })
    } finally {
      await stream.cancel()
    }
  })

  test('delivers events in order, each as it is produced, with gzip accepted', async () => {
    const response = await fetch(`${origin}/events?interval=20`, {
      headers: { 'accept-encoding': 'gzip' },
    })
    const stream = frames(response)
    try {
      const ids: string[] = []
      while (ids.length < 5) {
        const frame = await stream.next(`event ${ids.length + 1}`)
        if (frame?.fields.data !== undefined) {
          expect(frame.fields.event).toBe('tick')
          ids.push(frame.fields.id as string)
        }
      }
      expect(ids).toEqual(['1', '2', '3', '4', '5'])
    } finally {
      await stream.cancel()
    }
  })

  test('resumes after Last-Event-ID', async () => {
    const response = await fetch(`${origin}/events?interval=20`, {
      headers: { 'last-event-id': '41' },
    })
    const stream = frames(response)
    try {
      let frame = await stream.next('first frame')
      while (frame !== undefined && frame.fields.data === undefined) {
        frame = await stream.next('first event')
      }
      expect(frame?.fields.id).toBe('42')
      expect(JSON.parse(frame?.fields.data as string)).toMatchObject({ id: 42 })
    } finally {
      await stream.cancel()
    }
  })

  test('a client that leaves stops the producer (counted by the Durable Object)', async () => {
    const counter = `abort-${Date.now()}`
    const controller = new AbortController()
    const response = await fetch(`${origin}/events?interval=20&counter=${counter}`, {
      signal: controller.signal,
    })
    const stream = frames(response)
    await stream.next('opening frame')
    await stream.next('first tick')
    expect(await statsOnce(counter, (value) => value.opened === 1)).toEqual({
      opened: 1,
      closed: 0,
    })
    controller.abort()
    const after = await statsOnce(counter, (value) => value.closed === 1)
    expect(after).toEqual({ opened: 1, closed: 1 })
  })
})
