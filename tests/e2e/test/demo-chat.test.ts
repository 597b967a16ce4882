import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { waitUntil } from '@ssekit/test-support'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { answerFor } from '../../../examples/demo/src/chat.ts'
import { type Browser, launchBrowser } from '../src/browser.ts'
import { type DemoProcess, startDemo } from '../src/demo-process.ts'
import { pageState } from '../src/page-state.ts'

const resultsDirectory = fileURLToPath(new URL('../test-results/', import.meta.url))
let demo: DemoProcess
let browser: Browser

beforeAll(async () => {
  demo = await startDemo({ DEMO_TOKEN_MS: '40' })
  browser = await launchBrowser()
})

afterAll(async () => {
  await browser?.close()
  await demo?.stop()
})

/** How many POST /api/chat the server has received, whatever became of them. */
async function serverPosts(): Promise<number> {
  const response = await fetch(`${demo.baseURL}/api/figures`)
  return ((await response.json()) as { chatPosts: number }).chatPosts
}

/** Counts what the browser sends, as the network sees it. */
function countRequests(page: Page): { posts: string[]; resumes: string[] } {
  const seen = { posts: [] as string[], resumes: [] as string[] }
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname
    if (request.method() === 'POST' && path === '/api/chat') seen.posts.push(path)
    if (request.method() === 'GET' && /^\/api\/chat\/[^/]+\/stream$/.test(path)) {
      seen.resumes.push(request.headers()['last-event-id'] ?? '')
    }
  })
  return seen
}

async function ask(page: Page, prompt: string): Promise<string> {
  await page.locator('#prompt').fill(prompt)
  await page.locator('#send').click()
  const state = await waitUntil(
    async () => (await pageState(page)).chat,
    (chat) => chat !== undefined && chat.tokens >= 8,
    20_000,
    'the answer streams its first 8 tokens',
  )
  expect(state?.done).toBe(false)
  return state?.conversationId as string
}

function waitForDone(page: Page) {
  return waitUntil(
    async () => (await pageState(page)).chat,
    (chat) => chat?.done === true,
    30_000,
    'the answer completes',
  )
}

describe('the demo chat', () => {
  it('resumes after a page reload without sending the POST again', async () => {
    const page = await browser.context.newPage()
    const network = countRequests(page)
    await page.goto(demo.baseURL)
    const postsBefore = await serverPosts()
    const prompt = 'Does a reload start the answer again?'
    const conversationId = await ask(page, prompt)

    await page.reload()
    const chat = await waitForDone(page)

    expect(chat?.conversationId).toBe(conversationId)
    expect(chat?.text).toBe(answerFor(prompt))
    expect(chat?.anomalies).toBe(0)
    expect(chat?.resumes).toBeGreaterThanOrEqual(1)
    expect(network.posts).toHaveLength(1)
    expect((await serverPosts()) - postsBefore).toBe(1)
    expect(network.resumes.length).toBeGreaterThanOrEqual(1)
    expect(network.resumes[0]).not.toBe('')
    const starts = demo.logs.filter(
      (line) => line.msg === 'chat start' && line.conversationId === conversationId,
    )
    expect(starts).toHaveLength(1)
    const resume = await demo.waitForLog(
      (line) => line.msg === 'chat resume' && line.conversationId === conversationId,
      'the server sees the resume',
    )
    expect(resume.lastEventId).toBe(network.resumes[0])
    expect(await page.locator('#chat-state').getAttribute('data-state')).toBe('done')
    await page.close()
  })

  it('resumes after the server cuts the connection ("Drop connection"), with a GET and Last-Event-ID', async () => {
    const page = await browser.context.newPage()
    const network = countRequests(page)
    await page.goto(demo.baseURL)
    const postsBefore = await serverPosts()
    const prompt = 'What happens when the network drops mid-answer?'
    const conversationId = await ask(page, prompt)
    const logsBefore = demo.logs.length

    await page.locator('#drop').click()
    const dropped = await demo.waitForLog(
      (line) => line.msg === 'chat drop' && line.conversationId === conversationId,
      'the server cuts the stream',
      logsBefore,
    )
    expect(dropped.dropped).toBe(1)
    const chat = await waitForDone(page)

    expect(chat?.text).toBe(answerFor(prompt))
    expect(chat?.anomalies).toBe(0)
    expect(chat?.resumes).toBeGreaterThanOrEqual(1)
    expect(network.posts).toHaveLength(1)
    expect((await serverPosts()) - postsBefore).toBe(1)
    expect(network.resumes.length).toBeGreaterThanOrEqual(1)
    expect(network.resumes[0]).not.toBe('')
    expect(
      demo.logs.filter(
        (line) => line.msg === 'chat start' && line.conversationId === conversationId,
      ),
    ).toHaveLength(1)

    // The page as a newcomer sees it: market live, an answer, the figures.
    await waitUntil(
      async () => (await pageState(page)).marketIds.length,
      (count) => count >= 20,
      20_000,
      'the market has some history to draw',
    )
    await page.locator('.tile').first().waitFor({ timeout: 10_000 })
    await mkdir(resultsDirectory, { recursive: true })
    await page.screenshot({ path: `${resultsDirectory}demo.png`, fullPage: true })
    await page.close()
  })
})
