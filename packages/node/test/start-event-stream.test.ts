import { closeEventStreams, startEventStream } from '@ssekit/node'
import { withTimeout } from '@ssekit/test-support'
import { describe, expect, it } from 'vitest'
import { openEventStreams } from '../src/_registry.ts'
import { connect, createHelloServer, listen } from './_helpers.ts'

// startEventStream (what @ssekit/hono uses) makes no settled promise per stream; the registry's
// `settled` is made when closeEventStreams asks for it, and must still settle.
describe('startEventStream', () => {
  it('serves the stream, and closeEventStreams still ends it cleanly and sees it settle', async () => {
    const { server, returned } = createHelloServer(startEventStream)
    const { url, close } = await listen(server)
    try {
      const clients = await Promise.all(Array.from({ length: 3 }, () => connect(url)))
      for (const client of clients) expect(await client.nextEvent('hello')).toBe('data: hello')
      expect(openEventStreams.size).toBe(3)
      const result = await withTimeout(
        closeEventStreams({ graceMs: 3_000 }),
        5_000,
        'closeEventStreams',
      )
      expect(result).toEqual({ closed: 3, destroyed: 0 })
      for (const client of clients) {
        expect(await client.nextFrame('the retry hint')).toMatch(/^retry: \d+$/)
        expect(await client.ended('a clean end')).toBe('')
      }
      expect(returned()).toBe(3)
      expect(openEventStreams.size).toBe(0)
    } finally {
      await close()
    }
  })
})
