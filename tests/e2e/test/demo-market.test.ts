import { waitUntil } from '@ssekit/test-support'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Browser, launchBrowser } from '../src/browser.ts'
import { type DemoProcess, startDemo } from '../src/demo-process.ts'
import { pageState } from '../src/page-state.ts'

let demo: DemoProcess
let browser: Browser

beforeAll(async () => {
  demo = await startDemo({ DEMO_TICK_MS: '200' })
  browser = await launchBrowser()
})

afterAll(async () => {
  await browser?.close()
  await demo?.stop()
})

function consecutive(ids: number[]): boolean {
  return ids.every((id, index) => index === 0 || id === (ids[index - 1] as number) + 1)
}

describe('the demo dashboard over the browser EventSource', () => {
  it('survives a killed and restarted server: the right Last-Event-ID, no tick missing or doubled', async () => {
    const page = await browser.context.newPage()
    await page.goto(demo.baseURL)
    await waitUntil(
      async () => (await pageState(page)).marketIds.length,
      (count) => count >= 5,
      15_000,
      'the page receives 5 ticks',
    )
    expect(await page.locator('#quotes tr').count()).toBe(6)
    expect(await page.locator('#market-state').getAttribute('data-state')).toBe('open')

    await demo.kill()
    // Once the EventSource reports the error, every tick that reached the browser is on the page.
    await waitUntil(
      () => page.locator('#market-state').getAttribute('data-state'),
      (state) => state === 'reconnecting',
      15_000,
      'the page sees the connection drop',
    )
    const before = (await pageState(page)).marketIds
    const lastBefore = before.at(-1) as number
    const logsBefore = demo.logs.length

    await demo.restart()
    const reopened = await demo.waitForLog(
      (line) => line.msg === 'stream open' && line.kind === 'market',
      'the restarted server sees the market stream reopen',
      logsBefore,
    )
    expect(reopened.lastEventId).toBe(String(lastBefore))

    // The ticks of the outage come back as a replay, then live ones follow.
    const after = await waitUntil(
      async () => (await pageState(page)).marketIds,
      (ids) => ids.length >= before.length + 15,
      20_000,
      'the page receives ticks again after the restart',
    )
    expect(after.slice(0, before.length)).toEqual(before)
    expect(after[before.length]).toBe(lastBefore + 1)
    expect(consecutive(after)).toBe(true)
    expect(new Set(after).size).toBe(after.length)
    expect(await page.locator('#market-state').getAttribute('data-state')).toBe('open')
    expect(await page.locator('#market-anomalies').textContent()).toBe('0 / 0')
    expect(await page.locator('#market-reconnects').textContent()).toBe('1')
    await page.close()
  })
})
