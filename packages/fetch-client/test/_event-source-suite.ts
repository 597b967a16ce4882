import { EventSource } from '@ssekit/fetch-client'
import { describe, expect, it } from 'vitest'
import type { ScenarioLog } from './_server.ts'

/** The spec behaviour of our EventSource against the scenario server, as a function of its base URL. */
export function defineEventSourceSuite(getBaseUrl: () => string): void {
  const scenario = (path: string, query: Record<string, string> = {}) => {
    const key = crypto.randomUUID()
    const url = new URL(path, getBaseUrl())
    url.searchParams.set('key', key)
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value)
    return {
      url: url.href,
      log: async (): Promise<ScenarioLog> =>
        (await (await fetch(new URL(`/_log?key=${key}`, getBaseUrl()))).json()) as ScenarioLog,
    }
  }

  /** Records what a source fires until it is CLOSED (bounded). */
  function record(source: EventSource, types: string[] = []): Promise<string[]> {
    const seen: string[] = []
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        source.close()
        reject(new Error(`Timed out; saw ${JSON.stringify(seen)}`))
      }, 5000)
      source.onopen = () => seen.push(`open:${source.readyState}`)
      source.onmessage = (event) => {
        const message = event as MessageEvent
        seen.push(`message:${message.data}:${message.lastEventId}`)
      }
      for (const type of types) {
        source.addEventListener(type, (event) =>
          seen.push(`${type}:${(event as MessageEvent).data}`),
        )
      }
      source.onerror = () => {
        seen.push(`error:${source.readyState}`)
        if (source.readyState === EventSource.CLOSED) {
          clearTimeout(timer)
          resolve(seen)
        }
      }
    })
  }

  describe('EventSource', () => {
    it('opens, dispatches, reestablishes with Last-Event-ID, and fails for good on 204', async () => {
      const { url, log } = scenario('/resume-chain')
      const source = new EventSource(url)
      expect(source.readyState).toBe(EventSource.CONNECTING)
      expect(source.url).toBe(url)
      expect(await record(source)).toEqual([
        'open:1',
        'message:one:1',
        'message:two:2',
        'error:0',
        'open:1',
        'message:three after 2:3',
        'error:0',
        'error:2',
      ])
      expect((await log()).requests.map((request) => request.lastEventId)).toEqual([null, '2', '3'])
    })

    it('fails without reconnecting on HTTP 500 and on a wrong content type', async () => {
      for (const [path, query] of [
        ['/status', { status: '500' }],
        ['/content-type', { type: 'text/plain' }],
      ] as const) {
        const { url, log } = scenario(path, query)
        expect(await record(new EventSource(url))).toEqual(['error:2'])
        expect((await log()).requests).toHaveLength(1)
      }
    })

    it('dispatches named events to addEventListener and decodes UTF-8 whatever the charset', async () => {
      const { url } = scenario('/json')
      expect(await record(new EventSource(url), ['token', 'done'])).toEqual([
        'open:1',
        'token:{"text":"Hel"}',
        'token:{"text":"lo…"}',
        'done:null',
        'error:0',
        'error:2',
      ])
    })

    it('sends headers, method and body', async () => {
      const { url, log } = scenario('/once')
      const source = new EventSource(url, {
        headers: { authorization: 'Bearer x' },
        method: 'POST',
        body: 'payload',
        retryMs: 1,
      })
      expect((await record(source)).slice(0, 2)).toEqual(['open:1', 'message:payload:a'])
      const [first] = (await log()).requests
      expect([first?.method, first?.body, first?.authorization]).toEqual([
        'POST',
        'payload',
        'Bearer x',
      ])
    })

    it('close() sets CLOSED and stops the connection', async () => {
      const { url, log } = scenario('/endless')
      const source = new EventSource(url)
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no message')), 5000)
        source.onmessage = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      source.close()
      expect(source.readyState).toBe(EventSource.CLOSED)
      const deadline = Date.now() + 5000
      while ((await log()).clientClosed !== 1) {
        if (Date.now() > deadline) throw new Error('connection not closed')
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    })

    it('throws a SyntaxError DOMException for an invalid URL', () => {
      expect(() => new EventSource('http://this is invalid/')).toThrow(
        expect.objectContaining({ name: 'SyntaxError' }),
      )
    })
  })
}
