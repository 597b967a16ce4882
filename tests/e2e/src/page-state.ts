import type { Page } from 'playwright-core'

/** What the demo page exposes as `window.ssekitDemo` (see examples/demo/src/client/main.ts). */
export interface DemoPageState {
  marketIds: number[]
  marketOpens: number
  chatPosts: number
  chat:
    | {
        conversationId: string
        prompt: string
        text: string
        tokens: number
        lastEventId: string
        done: boolean
        resumes: number
        anomalies: number
      }
    | undefined
}

/** A copy of the page's state, read in the page. */
export function pageState(page: Page): Promise<DemoPageState> {
  return page.evaluate(() =>
    JSON.parse(JSON.stringify((window as unknown as { ssekitDemo: unknown }).ssekitDemo)),
  ) as Promise<DemoPageState>
}
