import { existsSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { closeEventStreams } from '@ssekit/node'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTickerServer } from '../src/app.ts'
import { createTicker, type Ticker } from '../src/ticker.ts'

/** Debian's Chromium; `CHROMIUM_PATH` points elsewhere. */
const { CHROMIUM_PATH: chromiumPath = '/usr/bin/chromium' } = process.env
const hasChromium = existsSync(chromiumPath)

interface Running {
  ticker: Ticker
  server: Server
  port: number
  /** The Last-Event-ID of each connection the browser opened, as the source received it. */
  connections: (string | undefined)[]
}

async function startTicker(port = 0): Promise<Running> {
  const ticker = createTicker({ symbols: ['ACME', 'GLOBEX'], intervalMs: 100 })
  const connections: (string | undefined)[] = []
  const server = createTickerServer({
    ...ticker,
    subscribe(context) {
      connections.push(context.lastEventId)
      return ticker.subscribe(context)
    },
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  return { ticker, server, port: (server.address() as AddressInfo).port, connections }
}

async function stopTicker({ ticker, server }: Running): Promise<void> {
  server.close()
  await closeEventStreams({ graceMs: 1_000, retry: 200, retryJitter: 0 })
  ticker.stop()
  server.closeAllConnections()
}

const lastId = (page: Page) => page.textContent('#last-id') as Promise<string>

describe.skipIf(!hasChromium)('node-ticker in Chromium', () => {
  let browser: Browser
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run'],
      timeout: 30_000,
    })
  })
  afterAll(async () => {
    await browser?.close()
  })

  it('shows live prices, resumes after a dropped stream, and says so after a restart', async () => {
    let running = await startTicker()
    const page = await browser.newPage()
    try {
      await page.goto(`http://127.0.0.1:${running.port}/`, { timeout: 10_000 })
      await page.waitForFunction(() => document.querySelectorAll('#prices tr').length === 2, null, {
        timeout: 10_000,
      })
      await page.waitForFunction(
        () => /-[1-9]\d*$/.test(document.getElementById('last-id')?.textContent ?? ''),
        null,
        { timeout: 10_000 },
      )
      const epoch = (await lastId(page)).split('-')[0]

      // The server ends the stream (retry: 200) but stays up: the browser reconnects with its
      // Last-Event-ID, gets the missed prices replayed, and no reset.
      await closeEventStreams({ graceMs: 1_000, retry: 200, retryJitter: 0 })
      const before = Number((await lastId(page)).split('-')[1])
      await page.waitForFunction(
        (seen) => Number(document.getElementById('last-id')?.textContent?.split('-')[1]) > seen + 4,
        before,
        { timeout: 10_000 },
      )
      expect((await lastId(page)).split('-')[0]).toBe(epoch)
      expect(await page.textContent('#notice')).toBe('')
      expect(running.connections).toHaveLength(2)
      expect(running.connections[0]).toBeUndefined()
      // The browser's own EventSource sent the id it had seen; the stream resumed from there.
      const [resumedEpoch, resumedAt] = (running.connections[1] ?? '').split('-')
      expect(resumedEpoch).toBe(epoch)
      expect(Number(resumedAt)).toBeGreaterThanOrEqual(before)

      // A restart: the old ids mean nothing to the new process, which says so with a reset.
      await stopTicker(running)
      running = await startTicker(running.port)
      await page.waitForFunction(
        () => document.getElementById('notice')?.textContent?.includes('unknown-id'),
        null,
        { timeout: 15_000 },
      )
      await page.waitForFunction(
        (oldEpoch) => !document.getElementById('last-id')?.textContent?.startsWith(`${oldEpoch}-`),
        epoch,
        { timeout: 10_000 },
      )
      expect(await page.textContent('#status')).toBe('live')
    } finally {
      await page.close()
      await stopTicker(running)
    }
  })
})
