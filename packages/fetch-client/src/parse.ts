import { SseError } from '@ssekit/core'
import type { EventStreamParser, ParserOptions, ServerSentEvent } from './types.ts'

export type { EventStreamParser, ParserOptions, ServerSentEvent } from './types.ts'

const STREAM: TextDecodeOptions = { stream: true }
const IGNORE_BOM: TextDecoderOptions = { ignoreBOM: true }
const LF = 10
const CR = 13
const SPACE = 32
const COLON = 58

/** Everything one parser holds; module-level functions work on it, so all parsers share their code. */
interface State {
  onEvent: ((event: ServerSentEvent) => void) | undefined
  onId: ((id: string) => void) | undefined
  onRetry: ((milliseconds: number) => void) | undefined
  onComment: ((comment: string) => void) | undefined
  onError: ((error: Error) => void) | undefined
  maxLineBytes: number
  maxEventBytes: number
  /** Only ever called without `stream`: Node keeps its fast path only for such decoders. */
  decoder: TextDecoder
  /** For chunks that may end inside a character. */
  streamDecoder: TextDecoder
  /** The next chunk goes to the stream decoder (which may hold the start of a character). */
  streaming: boolean
  /** Nothing decoded yet: a leading BOM is still to strip. */
  start: boolean
  /** A CR ended the last chunk: an LF starting the next one belongs to the same line end. */
  skipLineFeed: boolean
  /** The unterminated line. */
  pending: string
  pendingBytes: number
  /** Bytes since the current event's first `data` line (or since the unterminated line began). */
  eventBytes: number
  /** Where in the text being parsed the current event's first `data` line began; -1: earlier. */
  eventStart: number
  stopped: boolean
  data: string | undefined
  type: string | undefined
  id: string | undefined
  lastEventId: string
}

/**
 * Creates the fast core of ssekit's client: a synchronous parser fed with the raw bytes of a
 * `text/event-stream` body. It follows the WHATWG "parse" and "interpret an event stream" steps
 * exactly (CR, LF and CRLF line ends, also split across chunks; one leading space stripped;
 * `data` joined with LF; `event` defaulting to `message`; ids with NUL ignored; `retry` only when
 * all digits; the unterminated last event discarded) and decodes UTF-8 once per stream, stripping
 * exactly one leading BOM. Work is O(n) however the bytes are chunked, and a line or event that
 * grows past `maxLineBytes` / `maxEventBytes` stops the parser with an `SseError` instead of
 * exhausting memory.
 *
 * @param options - callbacks (`onEvent`, `onId`, `onRetry`, `onComment`, `onError`) and limits.
 * @returns a parser with `feed(bytes)`, `reset()` and `lastEventId`.
 * @throws TypeError when `options` is not an object or a limit is not a positive number.
 *
 * @example
 * ```ts
 * import { createParser } from '@ssekit/fetch-client'
 *
 * const parser = createParser({
 *   onEvent: (event) => console.log(event.type, event.data),
 *   onRetry: (milliseconds) => console.log('retry after', milliseconds),
 * })
 * const response = await fetch('https://example.com/stream')
 * for await (const chunk of response.body!) parser.feed(chunk)
 * ```
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 * @public
 */
export function createParser(options: ParserOptions): EventStreamParser {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(
      `createParser needs an options object${typeof options === 'function' ? ': did you mean createParser({ onEvent: fn })?' : ''}`,
    )
  }
  if (cold) warmUp()
  const state = {
    onEvent: options.onEvent,
    onId: options.onId,
    onRetry: options.onRetry,
    onComment: options.onComment,
    onError: options.onError,
    maxLineBytes: limit(options.maxLineBytes, 'maxLineBytes', 1_048_576),
    maxEventBytes: limit(options.maxEventBytes, 'maxEventBytes', 8_388_608),
    lastEventId: options.lastEventId ?? '',
  } as State
  restart(state)
  return {
    feed: (chunk) => feed(state, chunk),
    reset(resetOptions) {
      restart(state)
      if (resetOptions?.lastEventId !== undefined) state.lastEventId = resetOptions.lastEventId
    },
    get lastEventId() {
      return state.lastEventId
    },
  }
}

/** A new connection: everything but the options and the last event id starts over. */
function restart(state: State): void {
  state.decoder = new TextDecoder('utf-8', IGNORE_BOM)
  state.streamDecoder = new TextDecoder('utf-8', IGNORE_BOM)
  state.streaming = state.skipLineFeed = state.stopped = false
  state.start = true
  state.pending = ''
  state.pendingBytes = state.eventBytes = 0
  state.eventStart = -1
  state.data = state.type = state.id = undefined
}

let cold = true

/**
 * Runs every branch once on a tiny stream before the first real one. V8 (Node 20) keeps re-entering
 * optimised loop code that meets a branch it has no feedback for, deoptimising on every chunk
 * (measured: parsing the multi-line fixture after the others took 3.5x as long).
 */
function warmUp(): void {
  cold = false
  const noop = () => {}
  const sample = new TextEncoder().encode(
    '\ufeffdata: é€\r\nid: 1\0\rid\r\nevent\nretry: 1\n: c\ndata\nx: y\n\ndata: é\ndata: é',
  )
  // Feedback is recorded once a function has run a few times: go round more than once. The last
  // two rounds end in each limit error.
  for (let round = 0; round < 6; round++) {
    const parser = createParser({
      onEvent: noop,
      onId: noop,
      onRetry: noop,
      onComment: noop,
      onError: noop,
      maxLineBytes: round === 4 ? 1 : undefined,
      maxEventBytes: round === 5 ? 1 : undefined,
    })
    const size = round < 4 ? 2 + (round % 2) : sample.length
    for (let start = 0; start < sample.length; start += size) {
      parser.feed(sample.subarray(start, start + size))
    }
  }
}

function feed(state: State, chunk: Uint8Array): void {
  if (state.stopped) return
  const text = decode(state, chunk)
  let position = 0
  if (state.skipLineFeed && text.length > 0) {
    state.skipLineFeed = false
    if (text.charCodeAt(0) === LF) position = 1
  }
  let lineFeed = text.indexOf('\n', position)
  // Searched again only once passed, so a CR-free stream pays one search per chunk.
  let carriageReturn = text.indexOf('\r', position)
  if (lineFeed === -1 && carriageReturn === -1) {
    // V8 and JavaScriptCore append strings as ropes, flattened once when the line ends: a line
    // fed a few bytes at a time is still O(n).
    state.pending += position === 0 ? text : text.slice(position)
    state.pendingBytes += chunk.length
    state.eventBytes += chunk.length
    checkLimits(state)
    return
  }
  const length = text.length
  state.eventStart = -1
  if (state.pending !== '') {
    // The line that began in an earlier chunk. (Joining the whole text to it instead would leave
    // every later access going through a rope.)
    const end =
      carriageReturn !== -1 && (lineFeed === -1 || carriageReturn < lineFeed)
        ? carriageReturn
        : lineFeed
    const line = state.pending + text.slice(position, end)
    state.pending = ''
    processLine(state, line, 0, line.length)
    // An event this line began, began in an earlier chunk.
    state.eventStart = -1
    position = text.charCodeAt(end) === LF ? end + 1 : afterCarriageReturn(state, text, end)
  }
  while (position < length) {
    const first = text.charCodeAt(position)
    let end = position
    if (first === LF || first === CR) {
      dispatch(state)
    } else if (
      first === 105 &&
      text.charCodeAt(position + 1) === 100 &&
      text.charCodeAt(position + 2) === COLON
    ) {
      // `id:` values are short: one scan finds the line end and any NUL, no search call.
      let start = position + 3
      if (text.charCodeAt(start) === SPACE) start++
      let nul = false
      for (end = start; end < length; end++) {
        const code = text.charCodeAt(end)
        if (code === LF || code === CR) break
        if (code === 0) nul = true
      }
      if (end === length) break
      if (!nul) state.id = text.slice(start, end)
    } else {
      if (lineFeed !== -1 && lineFeed < position) lineFeed = text.indexOf('\n', position)
      if (carriageReturn !== -1 && carriageReturn < position) {
        carriageReturn = text.indexOf('\r', position)
      }
      end =
        carriageReturn !== -1 && (lineFeed === -1 || carriageReturn < lineFeed)
          ? carriageReturn
          : lineFeed
      if (end === -1) break
      if (
        first === 100 &&
        text.charCodeAt(position + 1) === 97 &&
        text.charCodeAt(position + 2) === 116 &&
        text.charCodeAt(position + 3) === 97 &&
        text.charCodeAt(position + 4) === COLON
      ) {
        // `data:`, the hot path: no field name to slice.
        addData(
          state,
          text.slice(
            text.charCodeAt(position + 5) === SPACE && position + 5 < end
              ? position + 6
              : position + 5,
            end,
          ),
          position,
        )
      } else {
        processLine(state, text, position, end)
      }
    }
    position = text.charCodeAt(end) === LF ? end + 1 : afterCarriageReturn(state, text, end)
  }
  if (position < length) state.pending = text.slice(position)
  // Limits count what is still unterminated, in bytes: the tail after the last line end, and the
  // current event from its first `data` line (or from the tail when none began yet). Both are
  // measured on the text, and characters count as bytes when every byte of the chunk became one
  // character (off by at most the 3 bytes of a character split from the last chunk); an event
  // that began in an earlier chunk adds this chunk's bytes.
  const ascii = length === chunk.length
  state.pendingBytes = byteLength(text, position, length, ascii)
  const from = state.data === undefined ? position : state.eventStart
  if (from === -1) state.eventBytes += chunk.length
  else state.eventBytes = byteLength(text, from, length, ascii)
  checkLimits(state)
}

function checkLimits(state: State): void {
  if (state.pendingBytes > state.maxLineBytes) {
    fail(state, 'line-too-long', `A line passed maxLineBytes (${state.maxLineBytes})`)
  } else if (
    state.eventBytes > state.maxEventBytes &&
    (state.data !== undefined || state.pending !== '')
  ) {
    fail(state, 'event-too-large', `An event passed maxEventBytes (${state.maxEventBytes})`)
  }
}

/** Where the line after a CR at `end` begins: past an LF that follows it at once. */
function afterCarriageReturn(state: State, text: string, end: number): number {
  if (text.charCodeAt(end + 1) === LF) return end + 2
  if (end + 1 === text.length) state.skipLineFeed = true
  return end + 1
}

function addData(state: State, value: string, start: number): void {
  if (state.data === undefined) {
    state.data = value
    state.eventStart = start
  } else state.data = `${state.data}\n${value}`
}

function decode(state: State, chunk: Uint8Array): string {
  const last = chunk.length - 1
  if (last < 0) return ''
  // The streaming decoder while a character may be split, and (faster in Node for non-ASCII text)
  // after a chunk that was not all ASCII; the other one, which keeps Node's ASCII fast path, else.
  const split = (chunk[last] as number) >= 0x80
  const text =
    state.streaming || split
      ? state.streamDecoder.decode(chunk, STREAM)
      : state.decoder.decode(chunk)
  state.streaming = split || text.length < chunk.length
  // Exactly one BOM is stripped, at the start of the stream: the decoders keep every U+FEFF.
  if (state.start && text !== '') {
    state.start = false
    if (text.charCodeAt(0) === 0xfeff) return text.slice(1)
  }
  return text
}

/** One line, `text[start, end)`, not blank. */
function processLine(state: State, text: string, start: number, end: number): void {
  // Field names are short: scanning them here beats a search call.
  let colon = start
  while (colon < end && text.charCodeAt(colon) !== COLON) colon++
  const value =
    colon === end
      ? ''
      : text.slice(
          colon + 1 < end && text.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1,
          end,
        )
  if (colon === start) {
    if (state.onComment !== undefined) state.onComment(value)
    return
  }
  switch (text.slice(start, colon)) {
    case 'data':
      addData(state, value, start)
      return
    case 'id':
      if (!value.includes('\0')) state.id = value
      return
    case 'event':
      state.type = value
      return
    case 'retry':
      if (state.onRetry !== undefined && /^\d+$/.test(value)) state.onRetry(Number(value))
  }
}

function dispatch(state: State): void {
  const id = state.id
  if (id !== undefined) {
    state.lastEventId = id
    state.id = undefined
    if (state.onId !== undefined) state.onId(id)
  }
  const data = state.data
  const type = state.type
  state.data = state.type = undefined
  if (data !== undefined && state.onEvent !== undefined) {
    state.onEvent({ type: type || 'message', data, lastEventId: state.lastEventId, id })
  }
}

function fail(state: State, code: 'line-too-long' | 'event-too-large', message: string): void {
  state.stopped = true
  state.pending = ''
  state.data = state.type = state.id = undefined
  const error = new SseError(code, message)
  if (state.onError === undefined) throw error
  state.onError(error)
}

function byteLength(text: string, start: number, end: number, ascii: boolean): number {
  let bytes = end - start
  if (ascii) return bytes
  for (let index = start; index < end; index++) {
    const code = text.charCodeAt(index)
    // Each half of a surrogate pair counts 2 of the pair's 4 bytes.
    if (code >= 0x80) bytes += code < 0x800 || (code >= 0xd800 && code < 0xe000) ? 1 : 2
  }
  return bytes
}

function limit(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) {
    throw new TypeError(`${name} must be a positive number (or Infinity)`)
  }
  return value
}
