import { fileURLToPath } from 'node:url'
import { withTimeout } from '@ssekit/test-support'
import { build } from 'esbuild'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// The package's own scenario server: the same routes its Node client tests run against.
import { startScenarioServer } from '../../../packages/fetch-client/test/_server.ts'
import type { CaseName, cases } from '../src/browser/fetch-client-cases.ts'
import { type Browser, launchBrowser } from '../src/browser.ts'

let server: Awaited<ReturnType<typeof startScenarioServer>>
let browser: Browser
let page: Page

/** Bundles `@ssekit/fetch-client` (from its sources) and the cases for the browser, as an app would. */
async function bundleCases(): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('../src/browser/fetch-client-cases.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['ssekit-source'],
    logLevel: 'warning',
  })
  return (result.outputFiles[0] as { text: string }).text
}

beforeAll(async () => {
  const [script, started, launched] = await Promise.all([
    bundleCases(),
    startScenarioServer(),
    launchBrowser(),
  ])
  server = started
  browser = launched
  page = await browser.context.newPage()
  // The page and its script are served at the scenario server's origin, so every request the
  // client makes is a same-origin one to the real server.
  await page.route(`${server.url}/__e2e/**`, (route) => {
    const path = new URL(route.request().url()).pathname
    if (path === '/__e2e/cases.js') {
      return route.fulfill({ contentType: 'text/javascript', body: script })
    }
    return route.fulfill({
      contentType: 'text/html',
      body: '<!doctype html><meta charset="utf-8"><script type="module" src="/__e2e/cases.js"></script>',
    })
  })
  await page.goto(`${server.url}/__e2e/index.html`)
  await page.waitForFunction(() => typeof window.runFetchClientCase === 'function', undefined, {
    timeout: 10_000,
  })
})

afterAll(async () => {
  await browser?.close()
  await server?.close()
})

function run<Name extends CaseName>(
  name: Name,
): Promise<Awaited<ReturnType<(typeof cases)[Name]>>> {
  return withTimeout(
    page.evaluate((caseName) => window.runFetchClientCase(caseName), name) as Promise<
      Awaited<ReturnType<(typeof cases)[Name]>>
    >,
    15_000,
    `browser case ${name}`,
  )
}

describe('@ssekit/fetch-client bundled for Chromium', () => {
  it('reconnects after a dropped connection with Last-Event-ID, and stops on 204', async () => {
    const result = await run('resumeChain')
    expect(result.events).toEqual(['one/1', 'two/2', 'three after 2/3'])
    expect(result.lastEventIds).toEqual([null, '2', '3'])
    expect(result.retryCodes).toEqual(['network', null])
  })

  it('ends without any event or reconnect on 204', async () => {
    expect(await run('noContent')).toEqual({ events: 0, requests: 1 })
  })

  it('fails on 404 with status, headers and a bounded body, never parsing it', async () => {
    const { error, seen, requests } = await run('notFound')
    expect(error).toMatchObject({ isSseError: true, code: 'bad-status', status: 404 })
    expect(error.contentType).toContain('text/html')
    expect(error.bodyStart).toBe('<html><body>error page er')
    expect(error.bodyLength).toBeLessThanOrEqual(1024)
    expect(seen).toEqual([])
    expect(requests).toBe(1)
  })

  it('rejects a 200 with another content type and does not reconnect', async () => {
    const { error, requests } = await run('wrongContentType')
    expect(error).toMatchObject({ isSseError: true, code: 'bad-content-type' })
    expect(requests).toBe(1)
  })

  it('accepts the MIME essence case-insensitively and decodes UTF-8 whatever the charset', async () => {
    expect(await run('jsonAndUtf8')).toBe('Hello…|')
  })

  it('resumes a dropped POST with a GET carrying Last-Event-ID, never re-sending the POST', async () => {
    const result = await run('postResumedWithGet')
    expect(result.events).toEqual(['token 1/1', 'token 2/2', 'token 3 after 2/3'])
    expect(result.contexts).toEqual([{ lastEventId: '2', code: 'network' }])
    expect(result.requests).toEqual([
      ['POST', '/post-drop', null, 'Bearer t', '{"prompt":"hi"}'],
      ['GET', '/post-resume', '2', 'Bearer t', ''],
    ])
  })

  it('calls the headers function before every attempt', async () => {
    expect(await run('headersFunction')).toEqual([
      'Bearer token-1',
      'Bearer token-2',
      'Bearer token-3',
    ])
  })

  it('drops a stalled connection after idleTimeoutMs and reconnects', async () => {
    expect(await run('idleTimeout')).toEqual({
      events: ['before the stall/'],
      retryCodes: ['idle-timeout'],
      requests: 2,
    })
  })

  it('rejects at once with the reason of an already-aborted signal, without a request', async () => {
    expect(await run('abortedSignal')).toEqual({ rejectedWithReason: true, requests: 0 })
  })

  it('close() during a read ends the iteration quietly and closes the connection', async () => {
    expect(await run('closeDuringRead')).toEqual({
      seen: ['0', '1', '2'],
      clientClosed: 1,
      doneAfter: true,
    })
  })
})
