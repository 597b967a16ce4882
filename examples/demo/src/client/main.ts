/**
 * The demo page's script, bundled for the browser by scripts/build.mjs (esbuild). The market and
 * the figures use the browser's own `EventSource`; the chat uses `@ssekit/fetch-client`, because
 * it needs a POST and a resume that `EventSource` cannot do.
 */
import { fetchEventStream, type RetryContext } from '@ssekit/fetch-client'
import type {
  ChatDone,
  ChatStart,
  ChatToken,
  FiguresSnapshot,
  MarketTick,
  ResetData,
} from '../protocol.ts'

type ChatEvents = {
  start: ChatStart
  token: ChatToken
  done: ChatDone
  reset: ResetData
}

/** What the chat keeps in sessionStorage, so a reload resumes instead of asking again. */
interface ChatState {
  conversationId: string
  prompt: string
  text: string
  tokens: number
  nextIndex: number
  lastEventId: string
  done: boolean
  resumes: number
  anomalies: number
}

/** Read by the end-to-end tests (and handy in the console). */
interface DemoDebug {
  marketIds: number[]
  marketOpens: number
  chatPosts: number
  chat: ChatState | undefined
}

declare global {
  interface Window {
    ssekitDemo: DemoDebug
  }
}

const debug: DemoDebug = { marketIds: [], marketOpens: 0, chatPosts: 0, chat: undefined }
window.ssekitDemo = debug

const storageKey = 'ssekit-demo:chat'
const sparkLength = 240
const element = <T extends HTMLElement = HTMLElement>(id: string): T =>
  document.getElementById(id) as T

function setState(id: string, state: string, label = state): void {
  const badge = element(id)
  badge.dataset['state'] = state
  badge.textContent = label
}

// ---------------------------------------------------------------- market (EventSource)

interface Quote {
  first: number
  last: number
  history: number[]
  row: HTMLTableRowElement
}
const quotes = new Map<string, Quote>()
let marketCount = 0
let marketReconnects = 0
let gaps = 0
let duplicates = 0

function startMarket(): void {
  const source = new EventSource('/events/market')
  source.onopen = () => {
    debug.marketOpens++
    if (debug.marketOpens > 1) marketReconnects++
    element('market-reconnects').textContent = String(marketReconnects)
    setState('market-state', 'open', 'live')
  }
  source.onerror = () => {
    // CONNECTING: the browser retries by itself, with the Last-Event-ID it saw last.
    if (source.readyState === EventSource.CONNECTING) setState('market-state', 'reconnecting')
    else setState('market-state', 'closed')
  }
  source.addEventListener('tick', (event) => {
    const tick = JSON.parse(event.data) as MarketTick
    const id = Number(event.lastEventId)
    const previous = debug.marketIds.at(-1)
    if (previous !== undefined && id !== previous + 1) {
      if (id <= previous) duplicates++
      else gaps++
    }
    debug.marketIds.push(id)
    if (debug.marketIds.length > 20_000) debug.marketIds.splice(0, 10_000)
    marketCount++
    renderTick(tick)
    element('market-last-id').textContent = event.lastEventId
    element('market-count').textContent = String(marketCount)
    element('market-anomalies').textContent = `${gaps} / ${duplicates}`
    element('market-frame').textContent =
      `event: tick\nid: ${event.lastEventId}\ndata: ${event.data}`
  })
  source.addEventListener('reset', (event) => {
    const { reason } = JSON.parse(event.data) as ResetData
    // The server could not resume from our id: start the history again.
    debug.marketIds.length = 0
    for (const quote of quotes.values()) quote.history.length = 0
    console.info(`market reset (${reason})`)
  })
}

function renderTick(tick: MarketTick): void {
  const body = element<HTMLTableSectionElement>('quotes')
  for (const [symbol, price] of Object.entries(tick.prices)) {
    let quote = quotes.get(symbol)
    if (quote === undefined) {
      const row = body.insertRow()
      row.innerHTML =
        '<td class="symbol"></td><td class="num price"></td><td class="num change"></td><td class="chart"></td>'
      ;(row.cells[0] as HTMLTableCellElement).textContent = symbol
      quote = { first: price, last: price, history: [], row }
      quotes.set(symbol, quote)
    }
    const cells = quote.row.cells
    const priceCell = cells[1] as HTMLTableCellElement
    priceCell.textContent = price.toFixed(2)
    priceCell.classList.toggle('flash-up', price > quote.last)
    priceCell.classList.toggle('flash-down', price < quote.last)
    const change = ((price - quote.first) / quote.first) * 100
    const changeCell = cells[2] as HTMLTableCellElement
    changeCell.textContent = `${change >= 0 ? '+' : ''}${change.toFixed(2)}%`
    changeCell.className = `num change ${change >= 0 ? 'up' : 'down'}`
    quote.last = price
    quote.history.push(price)
    if (quote.history.length > sparkLength) quote.history.shift()
    renderSpark(cells[3] as HTMLTableCellElement, quote.history, change >= 0)
  }
}

const svgNamespace = 'http://www.w3.org/2000/svg'
function renderSpark(cell: HTMLTableCellElement, history: number[], up: boolean): void {
  let svg = cell.firstElementChild as SVGSVGElement | null
  if (svg === null) {
    svg = document.createElementNS(svgNamespace, 'svg')
    svg.setAttribute('class', 'spark')
    svg.setAttribute('viewBox', `0 0 ${sparkLength} 28`)
    svg.setAttribute('preserveAspectRatio', 'none')
    svg.appendChild(document.createElementNS(svgNamespace, 'polyline'))
    cell.appendChild(svg)
  }
  const low = Math.min(...history)
  const high = Math.max(...history)
  const span = high - low || 1
  // Spread a short history over the whole width rather than leaving most of it empty.
  const step = sparkLength / Math.max(history.length - 1, 1)
  const points = history
    .map(
      (value, index) =>
        `${(index * step).toFixed(1)},${(26 - ((value - low) / span) * 24).toFixed(1)}`,
    )
    .join(' ')
  const line = svg.firstElementChild as SVGPolylineElement
  line.setAttribute('points', points)
  line.setAttribute('stroke', up ? 'var(--up)' : 'var(--down)')
}

// ---------------------------------------------------------------- chat (fetch-client)

let chat: ChatState | undefined
let activeStream: { close(): void } | undefined

function saveChat(): void {
  debug.chat = chat
  if (chat === undefined) sessionStorage.removeItem(storageKey)
  else sessionStorage.setItem(storageKey, JSON.stringify(chat))
}

function renderChat(note?: { text: string; ok?: boolean }): void {
  const answer = element('answer')
  answer.textContent = ''
  if (chat === undefined) {
    answer.innerHTML = '<span class="placeholder">The answer streams here.</span>'
    return
  }
  answer.append(chat.text)
  if (!chat.done) {
    const cursor = document.createElement('span')
    cursor.className = 'cursor'
    answer.append(cursor)
  }
  if (note !== undefined) {
    const line = document.createElement('span')
    line.className = note.ok ? 'note ok' : 'note'
    line.textContent = note.text
    answer.append(line)
  }
  element('chat-last-id').textContent = chat.lastEventId || '–'
  element('chat-tokens').textContent = String(chat.tokens)
  element('chat-resumes').textContent = `${chat.resumes}×`
  element('chat-posts').textContent = String(debug.chatPosts)
  element<HTMLButtonElement>('drop').disabled = chat.done
  element<HTMLButtonElement>('send').disabled = !chat.done
}

async function runChat(mode: 'post' | 'resume'): Promise<void> {
  const state = chat as ChatState
  const streamUrl = `/api/chat/${encodeURIComponent(state.conversationId)}/stream`
  const onRetry = ({ delayMs, error }: RetryContext): void => {
    setState('chat-state', 'resuming')
    renderChat({
      text: `Connection lost (${error?.code ?? 'ended'}): resuming after id ${state.lastEventId || '–'} in ${Math.round(delayMs)} ms…`,
    })
  }
  let opens = 0
  const common = {
    parse: 'json' as const,
    idleTimeoutMs: 30_000,
    maxRetries: 20,
    onRetry,
    // Every accepted connection after the first is a resume.
    onOpen: () => {
      opens++
      if (opens > 1 || mode === 'resume') state.resumes++
      setState('chat-state', 'streaming')
    },
  }
  if (mode === 'post') debug.chatPosts++
  const stream =
    mode === 'post'
      ? fetchEventStream<ChatEvents>('/api/chat', {
          ...common,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ conversationId: state.conversationId, prompt: state.prompt }),
          // A broken POST is never sent again: it continues with a GET and Last-Event-ID.
          resume: () => streamUrl,
        })
      : fetchEventStream<ChatEvents>(streamUrl, {
          ...common,
          initialLastEventId: state.lastEventId,
        })
  activeStream = stream
  setState('chat-state', mode === 'post' ? 'connecting' : 'resuming')
  renderChat(
    mode === 'resume'
      ? { text: `Resuming after id ${state.lastEventId || '–'} (the page was reloaded)…` }
      : undefined,
  )
  try {
    for await (const event of stream) {
      if (event.type === 'token') {
        if (event.data.index !== state.nextIndex) state.anomalies++
        state.text += event.data.text
        state.tokens++
        state.nextIndex = event.data.index + 1
      } else if (event.type === 'done') {
        state.done = true
      } else if (event.type === 'reset') {
        state.done = true
        state.text += '\n\n[This answer is gone from the server (it restarted). Ask again.]'
      }
      state.lastEventId = stream.lastEventId
      saveChat()
      if (state.done) break
      renderChat()
    }
    setState('chat-state', state.done ? 'done' : 'closed')
    renderChat(
      state.anomalies === 0
        ? {
            text: `✓ ${state.tokens} tokens, ${state.resumes === 0 ? 'one connection' : `resumed ${state.resumes}×`}, nothing missing or repeated`,
            ok: true,
          }
        : { text: `${state.anomalies} tokens out of order` },
    )
  } catch (error) {
    setState('chat-state', 'error')
    renderChat({ text: `Stream failed: ${(error as Error).message}` })
  } finally {
    if (activeStream === stream) activeStream = undefined
  }
}

function startChatUi(): void {
  const form = element<HTMLFormElement>('chat-form')
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const prompt = element<HTMLInputElement>('prompt').value.trim()
    if (prompt === '' || activeStream !== undefined) return
    chat = {
      conversationId: crypto.randomUUID(),
      prompt,
      text: '',
      tokens: 0,
      nextIndex: 0,
      lastEventId: '',
      done: false,
      resumes: 0,
      anomalies: 0,
    }
    saveChat()
    void runChat('post')
  })
  element('drop').addEventListener('click', () => {
    if (chat === undefined || chat.done) return
    // Ask the server to cut the TCP connection: a real network drop, not a client abort.
    void fetch(`/api/chat/${encodeURIComponent(chat.conversationId)}/drop`, { method: 'POST' })
  })

  const saved = sessionStorage.getItem(storageKey)
  if (saved !== null) {
    chat = JSON.parse(saved) as ChatState
    debug.chat = chat
    element<HTMLInputElement>('prompt').value = chat.prompt
    if (chat.done) {
      setState('chat-state', 'done')
      renderChat()
    } else {
      void runChat('resume')
    }
  }
}

// ---------------------------------------------------------------- figures (EventSource)

function startFigures(): void {
  const source = new EventSource('/events/figures')
  source.onopen = () => setState('figures-state', 'open', 'live')
  source.onerror = () =>
    setState(
      'figures-state',
      source.readyState === EventSource.CONNECTING ? 'reconnecting' : 'closed',
    )
  source.addEventListener('figures', (event) => {
    const figures = JSON.parse(event.data) as FiguresSnapshot
    element('instance').textContent = figures.instance
    element('hub-kind').textContent = `hub: ${figures.hub}`
    const kinds = Object.entries(figures.openByKind)
      .filter(([, count]) => count > 0)
      .map(([kind, count]) => `${kind} ${count}`)
      .join(' · ')
    const closed = Object.entries(figures.closed)
      .filter(([, count]) => count > 0)
      .map(([reason, count]) => `${reason} ${count}`)
      .join(' · ')
    const tiles: [string, string | number, string][] = [
      ['Open streams', figures.openStreams, kinds || 'none'],
      ['Events / s', figures.eventsPerSecond, `${figures.eventsSent} sent in all`],
      ['Hub subscribers', figures.subscribers, `${figures.topics} topics`],
      ['Published', figures.published, 'encoded once each'],
      ['Replays', figures.replayHits, `${figures.replayMisses} resets`],
      ['Drops', figures.drops, 'slow subscribers'],
      ['Closed streams', Object.values(figures.closed).reduce((a, b) => a + b, 0), closed || '–'],
      ['Chat', figures.chatPosts, `POSTs · ${figures.chatResumes} resumes`],
      ['Generating', figures.generationsRunning, 'answers now'],
      ['Memory', `${figures.memoryMb} MB`, `up ${figures.uptimeSeconds} s`],
    ]
    const container = element('figures')
    container.replaceChildren(
      ...tiles.map(([label, value, detail]) => {
        const tile = document.createElement('div')
        tile.className = 'tile'
        for (const [name, text] of [
          ['label', label],
          ['value', String(value)],
          ['detail', detail],
        ] as const) {
          const part = document.createElement('div')
          part.className = name
          part.textContent = text
          tile.append(part)
        }
        return tile
      }),
    )
  })
}

startMarket()
startChatUi()
startFigures()
