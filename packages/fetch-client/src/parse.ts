import { SseError } from '@ssekit/core'
import type { EventStreamParser, ParserOptions } from './types.ts'

export type { EventStreamParser, ParserOptions, ServerSentEvent } from './types.ts'

const STREAM: TextDecodeOptions = { stream: true }
const IGNORE_BOM: TextDecoderOptions = { ignoreBOM: true }
const LF = 10
const CR = 13
const SPACE = 32
const COLON = 58

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
  // (null gets the TypeError of the destructuring below.)
  if (typeof options !== 'object') {
    throw new TypeError('createParser needs options: createParser({ onEvent: fn })')
  }
  // Everything lives in this closure rather than on an object: V8 keeps no map for it that a GC
  // could collect between two streams (which would throw away the optimised code), and the
  // minifier can shorten every name.
  const { onEvent, onId, onRetry, onComment, onError } = options
  const maxLineBytes = limit(options.maxLineBytes, 'maxLineBytes', 1_048_576)
  const maxEventBytes = limit(options.maxEventBytes, 'maxEventBytes', 8_388_608)
  let lastEventId = options.lastEventId ?? ''
  /** Only ever called without `stream`: Node keeps its fast path only for such decoders. */
  let decoder: TextDecoder
  /** For chunks that may end inside a character. */
  let streamDecoder: TextDecoder
  /** The next chunk goes to the stream decoder (which may hold the start of a character). */
  let streaming: boolean
  /** Nothing decoded yet: a leading BOM is still to strip. */
  let start: boolean
  /** A CR ended the last chunk: an LF starting the next one belongs to the same line end. */
  let skipLineFeed: boolean
  let stopped: boolean
  /** The unterminated line. */
  let pending: string
  let pendingBytes: number
  /** Bytes since the current event's first `data` line (or since the unterminated line began). */
  let eventBytes: number
  /** Where in the text being parsed the current event's first `data` line began; -1: earlier. */
  let eventStart: number
  let data: string | undefined
  let type: string | undefined
  let id: string | undefined

  /** A new connection: everything but the options and the last event id starts over. */
  const restart = (): void => {
    decoder = new TextDecoder('utf-8', IGNORE_BOM)
    streamDecoder = new TextDecoder('utf-8', IGNORE_BOM)
    streaming = skipLineFeed = stopped = false
    start = true
    pending = ''
    pendingBytes = eventBytes = 0
    eventStart = -1
    data = type = id = undefined
  }

  /** A `data` line's value, whose line began at `from` in the text being parsed. */
  const addData = (value: string, from: number): void => {
    if (data === undefined) {
      data = value
      eventStart = from
    } else data = `${data}\n${value}`
  }

  /** One line, `text[from, end)`, not blank: the rare fields, and a line split across chunks. */
  const processLine = (text: string, from: number, end: number): void => {
    // Field names are short: scanning them here beats a search call.
    let colon = from
    while (colon < end && text.charCodeAt(colon) !== COLON) colon++
    const value = colon === end ? '' : valueAfter(text, colon, end)
    if (colon === from) {
      onComment?.(value)
      return
    }
    switch (text.slice(from, colon)) {
      case 'data':
        addData(value, from)
        return
      case 'id':
        if (!value.includes('\0')) id = value
        return
      case 'event':
        type = value
        return
      case 'retry':
        if (/^\d+$/.test(value)) onRetry?.(Number(value))
    }
  }

  const fail = (code: 'line-too-long' | 'event-too-large', message: string): void => {
    stopped = true
    pending = ''
    data = type = id = undefined
    const error = new SseError(code, message)
    if (onError === undefined) throw error
    onError(error)
  }

  const checkLimits = (): void => {
    if (pendingBytes > maxLineBytes) {
      fail('line-too-long', `A line passed maxLineBytes (${maxLineBytes})`)
    } else if (eventBytes > maxEventBytes && (data !== undefined || pending !== '')) {
      fail('event-too-large', `An event passed maxEventBytes (${maxEventBytes})`)
    }
  }

  const feed = (chunk: Uint8Array): void => {
    const chunkLength = chunk.length
    if (stopped || chunkLength === 0) return
    // The streaming decoder while a character may be split, and (faster in Node for non-ASCII
    // text) after a chunk that was not all ASCII; the other one, which keeps Node's ASCII fast
    // path, else.
    const split = (chunk[chunkLength - 1] as number) >= 0x80
    const text = streaming || split ? streamDecoder.decode(chunk, STREAM) : decoder.decode(chunk)
    const length = text.length
    streaming = split || length < chunkLength
    let position = 0
    // Exactly one BOM is stripped, at the start of the stream: the decoders keep every U+FEFF.
    if (start && length > 0) {
      start = false
      if (text.charCodeAt(0) === 0xfeff) position = 1
    }
    if (skipLineFeed && position < length) {
      skipLineFeed = false
      if (text.charCodeAt(position) === LF) position++
    }
    let lineFeed = text.indexOf('\n', position)
    // Searched again only once passed, so a CR-free stream pays one search per chunk.
    let carriageReturn = text.indexOf('\r', position)
    if (lineFeed === -1 && carriageReturn === -1) {
      // V8 and JavaScriptCore append strings as ropes, flattened once when the line ends: a line
      // fed a few bytes at a time is still O(n).
      pending += position === 0 ? text : text.slice(position)
      pendingBytes += chunkLength
      eventBytes += chunkLength
      checkLimits()
      return
    }
    eventStart = -1
    // One search per chunk spares every `id:` line its own.
    const noNul = text.indexOf('\0', position) === -1
    let end =
      carriageReturn !== -1 && (lineFeed === -1 || carriageReturn < lineFeed)
        ? carriageReturn
        : lineFeed
    if (pending !== '') {
      // The line that began in an earlier chunk. (Joining the whole text to it instead would
      // leave every later access going through a rope.)
      const line = pending + text.slice(position, end)
      pending = ''
      processLine(line, 0, line.length)
      // An event this line began, began in an earlier chunk.
      eventStart = -1
      position = end + 1
      if (end === carriageReturn) {
        if (text.charCodeAt(position) === LF) position++
        else if (position === length) skipLineFeed = true
      }
    }
    while (position < length) {
      const first = text.charCodeAt(position)
      if (first === LF || first === CR) {
        end = position
        const blockId = id
        const value = data
        const name = type
        data = type = id = undefined
        if (blockId !== undefined) {
          lastEventId = blockId
          onId?.(blockId)
        }
        if (value !== undefined) {
          onEvent?.({ type: name || 'message', data: value, lastEventId, id: blockId })
        }
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
          // `data:`, the hot path: no field name to slice. (The line end is never a space.)
          addData(valueAfter(text, position + 4, end), position)
        } else if (
          first === 105 &&
          text.charCodeAt(position + 1) === 100 &&
          text.charCodeAt(position + 2) === COLON
        ) {
          const value = valueAfter(text, position + 2, end)
          if (noNul || !value.includes('\0')) id = value
        } else if (
          first === 101 &&
          text.charCodeAt(position + 1) === 118 &&
          text.charCodeAt(position + 2) === 101 &&
          text.charCodeAt(position + 3) === 110 &&
          text.charCodeAt(position + 4) === 116 &&
          text.charCodeAt(position + 5) === COLON
        ) {
          type = valueAfter(text, position + 5, end)
        } else processLine(text, position, end)
      }
      position = end + 1
      if (text.charCodeAt(end) === CR) {
        if (text.charCodeAt(position) === LF) position++
        else if (position === length) skipLineFeed = true
      }
    }
    if (position < length) pending = text.slice(position)
    // Limits count what is still unterminated, in bytes: the tail after the last line end, and
    // the current event from its first `data` line (or from the tail when none began yet). Both
    // are measured on the text, and characters count as bytes when every byte of the chunk became
    // one character (off by at most the 3 bytes of a character split from the last chunk); an
    // event that began in an earlier chunk adds this chunk's bytes.
    const ascii = length === chunkLength
    pendingBytes = byteLength(text, position, length, ascii)
    const from = data === undefined ? position : eventStart
    if (from === -1) eventBytes += chunkLength
    else eventBytes = byteLength(text, from, length, ascii)
    checkLimits()
  }

  restart()
  return {
    feed,
    reset(resetOptions) {
      restart()
      lastEventId = resetOptions?.lastEventId ?? lastEventId
    },
    get lastEventId() {
      return lastEventId
    },
  }
}

/** The value of the field whose colon is at `colon`, without the one space that may follow it. */
function valueAfter(text: string, colon: number, end: number): string {
  return text.slice(text.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1, end)
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
  // Also false for NaN and for anything that is not a number.
  if (!(value > 0)) {
    throw new TypeError(`${name} must be a positive number (or Infinity)`)
  }
  return value
}
