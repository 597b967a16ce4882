import { SseError } from '@ssekit/core'
import type { EventStreamParser, ParserOptions } from './types.ts'

export type { EventStreamParser, ParserOptions, ServerSentEvent } from './types.ts'

const STREAM: TextDecodeOptions = { stream: true }
const IGNORE_BOM: TextDecoderOptions = { ignoreBOM: true }
const LF = 10
const CR = 13
const SPACE = 32
const COLON = 58
const EMPTY = new Uint8Array()
/** See the end of this file. */
let keeper: EventStreamParser['feed'] | undefined

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
  const maxLineBytes = limit(options.maxLineBytes, 'maxLineBytes', 2 ** 20)
  const maxEventBytes = limit(options.maxEventBytes, 'maxEventBytes', 2 ** 23)
  let lastEventId = options.lastEventId ?? ''
  /**
   * Only ever called without `stream` (Node keeps its fast path only for such decoders), so it
   * holds nothing between chunks and serves every connection.
   */
  const decoder = new TextDecoder(undefined, IGNORE_BOM)
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
  /** It is a `data` line, and `pending` holds only its value so far (never empty). */
  let pendingData: boolean
  let pendingBytes: number
  /** Bytes since the current event's first `data` line (or since the unterminated line began). */
  let eventBytes: number
  /** Where in the chunk being parsed the current event's first `data` line began; -1: earlier. */
  let eventStart: number
  let data: string | undefined
  let type: string | undefined
  let id: string | undefined

  /** A new connection: everything but the options and the last event id starts over. */
  const restart = (): void => {
    streamDecoder = new TextDecoder(undefined, IGNORE_BOM)
    streaming = skipLineFeed = stopped = pendingData = false
    start = true
    pending = ''
    pendingBytes = eventBytes = 0
    eventStart = -1
    data = type = id = undefined
  }

  /** A `data` line's value, whose line began at byte `at` of the chunk being parsed. */
  const addData = (value: string, at: number): void => {
    if (data === undefined) {
      data = value
      eventStart = at
    }
    // biome-ignore lint/style/useTemplate: a template calls ToString on each part, measured slower
    else data = data + '\n' + value
  }

  /**
   * One line, not blank, whose bytes start at `at` in the chunk being parsed (-1: in an earlier
   * one): the rare fields, and a line split across chunks.
   */
  const processLine = (line: string, at: number): void => {
    // A search, not a `charCodeAt` loop: a line joined across chunks is a rope, which every
    // `charCodeAt` walks and `indexOf` flattens once (5% of the time on random small chunks).
    let colon = line.indexOf(':')
    if (colon < 0) colon = line.length
    // The value, without the one space that may follow the colon.
    const value = line.slice(line.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1)
    if (colon === 0) {
      onComment?.(value)
      return
    }
    switch (line.slice(0, colon)) {
      case 'data':
        addData(value, at)
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
    if (stopped || !chunkLength) return
    // The streaming decoder while a character may be split, and (faster in Node for non-ASCII
    // text) after a chunk that was not all ASCII; the other one, which keeps Node's ASCII fast
    // path, else.
    const split = (chunk[chunkLength - 1] as number) >= 0x80
    const oneShot = !(streaming || split)
    const text = oneShot ? decoder.decode(chunk) : streamDecoder.decode(chunk, STREAM)
    const length = text.length
    streaming = split || length < chunkLength
    // Field names are recognised by their bytes, which are cheaper to read than characters: `at`
    // is where the bytes of the line at `position` start. When every byte became one character
    // and none came from an earlier chunk, each ASCII byte sits at the same index in both.
    const aligned = oneShot && length === chunkLength
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
    // Not found is 2 ** 32 - 1 (`>>> 0`), past any text: the nearer line end is then the smaller.
    let lineFeed = text.indexOf('\n', position) >>> 0
    // Searched again only once passed, so a CR-free stream pays one search per chunk.
    let carriageReturn = text.indexOf('\r', position) >>> 0
    // biome-ignore lint/complexity/useMathMinMax: Math.min measured slower here, on unsigned values
    let end = lineFeed < carriageReturn ? lineFeed : carriageReturn
    if (end >= length) {
      // V8 and JavaScriptCore append strings as ropes, flattened once when the line ends: a line
      // fed a few bytes at a time is still O(n).
      pending += position === 0 ? text : text.slice(position)
      pendingBytes += chunkLength
      eventBytes += chunkLength
      checkLimits()
      return
    }
    eventStart = -1
    // One search per chunk (when it has an `id:` line) spares every `id:` line its own.
    let noNul: boolean | undefined
    // Where `end` is in the bytes: line ends are ASCII, so the bytes hold the same ones in the
    // same order. (Before it may be a BOM, or the end of a character begun in the last chunk.)
    let at = end
    if (!aligned) {
      at = position
      while (chunk[at] !== LF && chunk[at] !== CR) at++
    }
    if (pending !== '' || (!aligned && end > position)) {
      // The line that began in an earlier chunk, or the first line of a chunk whose bytes may
      // start inside a character. (Joining the whole text to it instead would leave every later
      // access going through a rope.)
      const line = pending + text.slice(position, end)
      pending = ''
      if (pendingData) addData(line, -1)
      else processLine(line, -1)
      pendingData = false
      position = end + 1
      at++
      if (carriageReturn < length && chunk[at - 1] === CR) {
        if (chunk[at] === LF) {
          position++
          at++
        } else if (position === length) skipLineFeed = true
      }
    } else at -= end - position
    while (position < length) {
      const first = chunk[at]
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
        if (lineFeed < position) lineFeed = text.indexOf('\n', position) >>> 0
        if (carriageReturn < position) carriageReturn = text.indexOf('\r', position) >>> 0
        // biome-ignore lint/complexity/useMathMinMax: as above
        end = lineFeed < carriageReturn ? lineFeed : carriageReturn
        if (end >= length) break
        // The field name is ASCII: what follows it sits as many characters on in `text` as bytes
        // on in `chunk`.
        if (
          first === 100 &&
          chunk[at + 1] === 97 &&
          chunk[at + 2] === 116 &&
          chunk[at + 3] === 97 &&
          chunk[at + 4] === COLON
        ) {
          // `data:`, the hot path: no field name to slice. (The line end is never a space.)
          addData(text.slice(chunk[at + 5] === SPACE ? position + 6 : position + 5, end), at)
        } else if (first === 105 && chunk[at + 1] === 100 && chunk[at + 2] === COLON) {
          const value = text.slice(chunk[at + 3] === SPACE ? position + 4 : position + 3, end)
          noNul ??= text.indexOf('\0', position) === -1
          if (noNul || !value.includes('\0')) id = value
        } else if (
          first === 101 &&
          chunk[at + 1] === 118 &&
          chunk[at + 2] === 101 &&
          chunk[at + 3] === 110 &&
          chunk[at + 4] === 116 &&
          chunk[at + 5] === COLON
        ) {
          type = text.slice(chunk[at + 6] === SPACE ? position + 7 : position + 6, end)
        } else processLine(text.slice(position, end), at)
        at += end - position
        // A line that starts in this chunk has at least as many bytes as characters (one or more
        // bytes each, two characters for four): its end is that far on, or further.
        if (!aligned) while (chunk[at] !== LF && chunk[at] !== CR) at++
      }
      position = end + 1
      at++
      // No CR left in the chunk: no byte to read.
      if (carriageReturn < length && chunk[at - 1] === CR) {
        if (chunk[at] === LF) {
          position++
          at++
        } else if (position === length) skipLineFeed = true
      }
    }
    if (position < length) {
      // A `data` line cut in its value (a character past the space that may follow the colon)
      // keeps only that: the next chunk then has no field name to read again.
      if (
        position + 6 < length &&
        chunk[at] === 100 &&
        chunk[at + 1] === 97 &&
        chunk[at + 2] === 116 &&
        chunk[at + 3] === 97 &&
        chunk[at + 4] === COLON
      ) {
        pendingData = true
        position += chunk[at + 5] === SPACE ? 6 : 5
      }
      pending = text.slice(position)
    }
    // Limits count the bytes still unterminated: those of the tail after the last line end (which
    // start at `at`), and of the current event from its first `data` line (or from the tail when
    // none began yet); an event that began in an earlier chunk adds this chunk's bytes.
    pendingBytes = chunkLength - at
    const from = data === undefined ? at : eventStart
    eventBytes = from === -1 ? eventBytes + chunkLength : chunkLength - from
    checkLimits()
  }

  restart()
  keeper?.(EMPTY)
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

/**
 * A parser that lives as long as the module. Each new parser calls its `feed` once, with nothing to
 * parse, and so makes it hold V8's newest optimised code for `feed`, made while earlier streams ran.
 * V8 keeps that code only while a closure holds it: without this one, a full GC with no stream open
 * (after an idle period, say) drops it, and the next stream runs unoptimised until V8 compiles it
 * again, which for a 500-event stream fed an event at a time measured 3x slower.
 */
keeper = createParser({}).feed

function limit(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback
  // Also false for NaN and for anything that is not a number.
  if (!(value > 0)) {
    throw new TypeError(`${name} must be a positive number (or Infinity)`)
  }
  return value
}
