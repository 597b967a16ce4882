import { createServer, request as httpRequest, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { sendEventStream } from '@ssekit/node'
import { withTimeout } from '@ssekit/test-support'
import { describe, expect, it } from 'vitest'
import { openEventStreams } from '../src/_registry.ts'
import { listen } from './_helpers.ts'

const cycles = 1_000
const parallel = 20
const watchedEvents = ['close', 'drain', 'error', 'finish'] as const

function listenerCounts(emitter: ServerResponse | Socket): Record<string, number> {
  return Object.fromEntries(
    watchedEvents.map((name) => [name, emitter.listenerCount(name)] as const),
  )
}

function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length
}

/** Connects, waits for the first bytes (so the stream is running), then tears the socket down. */
function connectAndAbort(url: string): Promise<void> {
  return withTimeout(
    new Promise<void>((resolve, reject) => {
      const clientRequest = httpRequest(url, { agent: false }, (response) => {
        response.once('data', () => {
          clientRequest.destroy()
          resolve()
        })
      })
      clientRequest.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ECONNRESET') reject(error)
      })
      clientRequest.end()
    }),
    5_000,
    'one connect/abort cycle',
  )
}

describe('client disconnects', () => {
  it(`${cycles} connect/abort cycles leave no open stream, timer or listener behind`, async () => {
    let started = 0
    let returned = 0
    const settlements: Promise<string>[] = []
    const leftovers: string[] = []
    const server = createServer((request, response) => {
      const beforeResponse = listenerCounts(response)
      const beforeSocket = listenerCounts(request.socket)
      let sourceReturned = false
      const settled = sendEventStream(
        request,
        response,
        async function* ({ signal }) {
          started++
          try {
            for (let id = 0; ; id++) {
              yield { id: String(id), data: 'x'.repeat(100) }
              await sleep(20, undefined, { signal })
            }
          } finally {
            returned++
            sourceReturned = true
          }
        },
        { heartbeat: 50 },
      ).then((reason) => {
        if (!sourceReturned) leftovers.push("settled before the source's return() ran")
        const afterResponse = listenerCounts(response)
        const afterSocket = listenerCounts(request.socket)
        for (const name of watchedEvents) {
          if (afterResponse[name] !== beforeResponse[name]) {
            leftovers.push(`response ${name}: ${beforeResponse[name]} -> ${afterResponse[name]}`)
          }
          if ((afterSocket[name] ?? 0) > (beforeSocket[name] ?? 0)) {
            leftovers.push(`socket ${name}: ${beforeSocket[name]} -> ${afterSocket[name]}`)
          }
        }
        return reason
      })
      settlements.push(settled)
    })
    const { url, close } = await listen(server)
    try {
      const timersBefore = activeTimers()
      for (let done = 0; done < cycles; done += parallel) {
        await Promise.all(Array.from({ length: parallel }, () => connectAndAbort(url)))
      }
      const reasons = await withTimeout(
        Promise.all(settlements),
        10_000,
        'every sendEventStream promise settles',
      )
      expect(reasons).toHaveLength(cycles)
      expect(new Set(reasons)).toEqual(new Set(['cancel']))
      expect(started).toBe(cycles)
      expect(returned).toBe(cycles)
      expect(openEventStreams.size).toBe(0)
      expect(leftovers).toEqual([])
      // The shared heartbeat timer (or a stall timer) left per stream would show up here.
      expect(activeTimers()).toBeLessThanOrEqual(timersBefore)
    } finally {
      await close()
    }
  })
})
