import { SseError } from '@ssekit/core'
import type { EventStreamParser, ParserOptions, ServerSentEvent } from './types.ts'

export type { EventStreamParser, ParserOptions, ServerSentEvent } from './types.ts'

const STREAM: TextDecodeOptions = { stream: true }
const IGNORE_BOM: TextDecoderOptions = { ignoreBOM: true }
const BOM = [0xef, 0xbb, 0xbf]
const LF = 10
const SPACE = 32
const COLON = 58

/** Default for `maxLineBytes`: 1 MiB. */
const DEFAULT_MAX_LINE_BYTES = 1_048_576
/** Default for `maxEventBytes`: 8 MiB. */
const DEFAULT_MAX_EVENT_BYTES = 8_388_608

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
  const { onEvent, onId, onRetry, onComment, onError } = options
  const maxLineBytes = limitOption(options.maxLineBytes, 'maxLineBytes', DEFAULT_MAX_LINE_BYTES)
  const maxEventBytes = limitOption(options.maxEventBytes, 'maxEventBytes', DEFAULT_MAX_EVENT_BYTES)
  const limited =
    maxLineBytes !== Number.POSITIVE_INFINITY || maxEventBytes !== Number.POSITIVE_INFINITY

  // One UTF-8 decoder per stream; the BOM is ours to strip (exactly one, at the very start).
  // A chunk that ends in ASCII while the decoder holds nothing is decoded in one (much faster)
  // non-streaming call; otherwise the streaming call keeps a split character for the next chunk.
  let decoder = new TextDecoder('utf-8', IGNORE_BOM)
  let decoderHolds = false
  // 0: the stream's first bytes are still to come; 1-2: that many BOM bytes held; 3: done.
  let bomState = 0
  // A CR ended the previous chunk: an LF at the start of this one belongs to the same line end.
  let skipLineFeed = false
  // The unterminated line.
  let pending = ''
  let pendingBytes = 0
  // Bytes read since the current event began to hold data (its first `data` line).
  let eventBytes = 0
  let stopped = false

  let data: string | undefined
  let eventType: string | undefined
  let idBuffer: string | undefined
  let lastEventId = options.lastEventId ?? ''

  function dispatch(): void {
    const id = idBuffer
    if (id !== undefined) {
      lastEventId = id
      idBuffer = undefined
      onId?.(id)
    }
    if (data !== undefined) {
      const event: ServerSentEvent = { type: eventType || 'message', data, lastEventId, id }
      data = undefined
      eventType = undefined
      onEvent?.(event)
    }
    eventType = undefined
  }

  // `line` is text[start, end): the hot path never slices out the line itself, only the value.
  function processLine(text: string, start: number, end: number): void {
    if (start === end) {
      dispatch()
      return
    }
    switch (text.charCodeAt(start)) {
      case COLON:
        if (onComment !== undefined) onComment(fieldValue(text, start + 1, end))
        return
      case 100: // d
        if (
          text.charCodeAt(start + 1) === 97 &&
          text.charCodeAt(start + 2) === 116 &&
          text.charCodeAt(start + 3) === 97 &&
          text.charCodeAt(start + 4) === COLON
        ) {
          const value = fieldValue(text, start + 5, end)
          data = data === undefined ? value : `${data}\n${value}`
        } else if (end - start === 4 && text.startsWith('data', start)) {
          data = data === undefined ? '' : `${data}\n`
        }
        return
      case 101: // e
        if (text.startsWith('event:', start)) eventType = fieldValue(text, start + 6, end)
        else if (end - start === 5 && text.startsWith('event', start)) eventType = ''
        return
      case 105: // i
        if (text.startsWith('id:', start)) {
          const value = fieldValue(text, start + 3, end)
          if (!value.includes('\0')) idBuffer = value
        } else if (end - start === 2 && text.startsWith('id', start)) {
          idBuffer = ''
        }
        return
      case 114: // r
        if (text.startsWith('retry:', start)) {
          const value = fieldValue(text, start + 6, end)
          if (onRetry !== undefined && isDigits(value)) onRetry(Number.parseInt(value, 10))
        }
        return
    }
  }

  function fail(error: SseError): void {
    stopped = true
    pending = ''
    data = undefined
    eventType = undefined
    idBuffer = undefined
    if (onError === undefined) throw error
    onError(error)
  }

  function decode(input: Uint8Array): string {
    let chunk = input
    if (bomState < 3) {
      if (bomState > 0) {
        const joined = new Uint8Array(bomState + chunk.length)
        joined.set(BOM.slice(0, bomState))
        joined.set(chunk, bomState)
        chunk = joined
      }
      let matched = 0
      while (matched < 3 && matched < chunk.length && chunk[matched] === BOM[matched]) matched++
      if (matched === chunk.length && matched < 3) {
        bomState = matched
        return ''
      }
      bomState = 3
      if (matched === 3) chunk = chunk.subarray(3)
    }
    const last = chunk.length - 1
    if (last < 0) return ''
    if (!decoderHolds && (chunk[last] as number) < 0x80) return decoder.decode(chunk)
    decoderHolds = (chunk[last] as number) >= 0x80
    return decoder.decode(chunk, STREAM)
  }

  function feed(chunk: Uint8Array): void {
    if (stopped) return
    const text = decode(chunk)
    const length = text.length
    if (length === 0) {
      pendingBytes += chunk.length
      eventBytes += chunk.length
      if (limited) checkLimits()
      return
    }
    let position = 0
    if (skipLineFeed) {
      skipLineFeed = false
      if (text.charCodeAt(0) === LF) position = 1
    }
    // Where, in this chunk, the current event began to hold data; -1 when it began earlier.
    let eventStart = data === undefined ? position : -1
    let lineEnded = false
    let lineFeed = text.indexOf('\n', position)
    let carriageReturn = text.indexOf('\r', position)
    if (carriageReturn === -1) {
      // The common case, LF only: one search per line, and a one-line `data` event followed by
      // its blank line is dispatched without touching the data buffer.
      while (lineFeed !== -1) {
        if (pending !== '') {
          const line = pending + text.slice(position, lineFeed)
          pending = ''
          processLine(line, 0, line.length)
          position = lineFeed + 1
          // The line began in an earlier chunk, so an event it started did too.
          if (data !== undefined) eventStart = -1
        } else if (
          text.charCodeAt(position) === 100 &&
          text.charCodeAt(position + 1) === 97 &&
          text.charCodeAt(position + 2) === 116 &&
          text.charCodeAt(position + 3) === 97 &&
          text.charCodeAt(position + 4) === COLON
        ) {
          // `data:` lines, inline; a one-line event followed by its blank line dispatches at once.
          const start =
            text.charCodeAt(position + 5) === SPACE && position + 5 < lineFeed
              ? position + 6
              : position + 5
          const value = text.slice(start, lineFeed)
          if (data === undefined) {
            data = value
            if (text.charCodeAt(lineFeed + 1) === LF) {
              dispatch()
              position = lineFeed + 2
            } else position = lineFeed + 1
          } else {
            data = `${data}\n${value}`
            position = lineFeed + 1
          }
        } else if (lineFeed === position) {
          dispatch()
          position = lineFeed + 1
        } else {
          processLine(text, position, lineFeed)
          position = lineFeed + 1
        }
        if (data === undefined) eventStart = position
        lineEnded = true
        lineFeed = text.indexOf('\n', position)
      }
    } else {
      // Positions of the next LF and CR are searched again only once passed.
      while (lineFeed !== -1 || carriageReturn !== -1) {
        let end: number
        let next: number
        if (carriageReturn === -1 || (lineFeed !== -1 && lineFeed < carriageReturn)) {
          end = lineFeed
          next = lineFeed + 1
          lineFeed = text.indexOf('\n', next)
        } else {
          end = carriageReturn
          next = carriageReturn + 1
          if (next === length) skipLineFeed = true
          else if (text.charCodeAt(next) === LF) {
            next++
            lineFeed = text.indexOf('\n', next)
          }
          carriageReturn = text.indexOf('\r', next)
        }
        if (pending !== '') {
          const line = pending + text.slice(position, end)
          pending = ''
          processLine(line, 0, line.length)
          if (data !== undefined) eventStart = -1
        } else {
          processLine(text, position, end)
        }
        position = next
        lineEnded = true
        if (data === undefined) eventStart = next
      }
    }
    // V8 and JavaScriptCore append strings as ropes, flattened once when the line is read: a line
    // fed a few bytes at a time is still O(n).
    if (position < length) pending += position === 0 ? text : text.slice(position)
    afterFeed(chunk, text, position, eventStart, lineEnded)
  }

  function afterFeed(
    chunk: Uint8Array,
    text: string,
    position: number,
    eventStart: number,
    lineEnded: boolean,
  ): void {
    if (!limited) return
    const length = text.length
    // Limits count what is still unterminated, in bytes. A chunk without a line end adds all its
    // bytes; otherwise only the tail after the last line end (or event start) is measured.
    if (!lineEnded) {
      pendingBytes += chunk.length
      eventBytes += chunk.length
    } else {
      pendingBytes = utf8Length(text, position, length)
      if (eventStart === -1) eventBytes += chunk.length
      else if (eventStart >= position) eventBytes = pendingBytes
      else eventBytes = utf8Length(text, eventStart, length)
    }
    checkLimits()
  }

  function checkLimits(): void {
    if (pendingBytes > maxLineBytes) {
      fail(new SseError('line-too-long', `A line passed maxLineBytes (${maxLineBytes})`))
    } else if (eventBytes > maxEventBytes && (data !== undefined || pending !== '')) {
      fail(new SseError('event-too-large', `An event passed maxEventBytes (${maxEventBytes})`))
    }
  }

  function reset(resetOptions?: { lastEventId?: string | undefined } | undefined): void {
    decoder = new TextDecoder('utf-8', IGNORE_BOM)
    decoderHolds = false
    bomState = 0
    skipLineFeed = false
    pending = ''
    pendingBytes = 0
    eventBytes = 0
    stopped = false
    data = undefined
    eventType = undefined
    idBuffer = undefined
    if (resetOptions?.lastEventId !== undefined) lastEventId = resetOptions.lastEventId
  }

  return {
    feed,
    reset,
    get lastEventId() {
      return lastEventId
    },
  }
}

function fieldValue(text: string, start: number, end: number): string {
  return text.slice(start < end && text.charCodeAt(start) === SPACE ? start + 1 : start, end)
}

function isDigits(value: string): boolean {
  if (value.length === 0) return false
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index)
    if (code < 48 || code > 57) return false
  }
  return true
}

function utf8Length(text: string, start: number, end: number): number {
  let bytes = end - start
  for (let index = start; index < end; index++) {
    const code = text.charCodeAt(index)
    if (code < 0x80) continue
    if (code < 0x800) bytes += 1
    else if (code >= 0xd800 && code <= 0xdbff && index + 1 < end) {
      // A surrogate pair: two code units, four bytes.
      bytes += 2
      index++
    } else bytes += 2
  }
  return bytes
}

function limitOption(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) {
    throw new TypeError(
      `${name} must be a positive number of bytes (Infinity: no limit), got ${value}`,
    )
  }
  return value
}
