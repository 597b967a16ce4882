import { SseError } from './errors.ts'
import type { SseEvent } from './types.ts'

/**
 * The key under which {@link createEncodedEvent} stores an event's encoded bytes. `Symbol.for`, so
 * an event encoded by one copy of `@ssekit/core` is recognised by another.
 * @internal
 */
export const frameKey: unique symbol = Symbol.for('ssekit.frame') as typeof frameKey

/**
 * An event that carries its own encoded frame, made by {@link createEncodedEvent}. A stream writes
 * those bytes as they are instead of encoding the event again.
 *
 * @example
 * ```ts
 * import { createEncodedEvent, type EncodedEvent } from '@ssekit/core'
 *
 * const history: EncodedEvent[] = []
 * history.push(createEncodedEvent({ id: '1', data: 'hello' }))
 * ```
 * @public
 */
export interface EncodedEvent extends SseEvent {
  /** The frame's UTF-8 bytes. Shared by every stream that sends this event: never modify them. */
  readonly [frameKey]: Uint8Array
}

const encoder = new TextEncoder()
/**
 * A one-line string `data` of at least this many characters is encoded where it is rather than
 * joined into a batch's text (see {@link encodeParts}); below it, one more call into the encoder
 * costs more than the copy it saves.
 * @internal
 */
export const longData = 1_024
const lineBreak = /\r\n|\r|\n/
const crLfOrNul = /[\r\n\0]/

/**
 * Formats one event as the text of one frame, validating every field first, so a bad field throws
 * before anything is produced. The pump concatenates these strings to encode many frames at once.
 * @internal
 */
export function formatEvent(event: SseEvent): string {
  const fields = formatFields(event)
  const { data } = event
  if (data === undefined) return `${fields}\n`
  // JSON.stringify escapes CR and LF, so its output is always one line and needs no scan.
  if (typeof data !== 'string') return `${fields}data: ${serialise(data)}\n\n`
  return isOneLine(data)
    ? `${fields}data: ${data}\n\n`
    : `${fields}${prefixEachLine('data: ', data)}\n`
}

/**
 * The lines of a frame before its data (`comment`, `event`, `id`, `retry`), validating each field
 * first. Whatever follows is `data` (when set) and the blank line that ends the frame.
 * @internal
 */
export function formatFields(event: SseEvent): string {
  if (typeof event !== 'object' || event === null) {
    throw new TypeError(
      `An event must be an object such as { data: 'hello' }, got ${event === null ? 'null' : typeof event}`,
    )
  }
  let fields = ''
  const { comment, event: type, id, retry } = event
  if (comment !== undefined) {
    if (typeof comment !== 'string') throw notAString('comment', comment)
    fields = prefixLines(': ', comment)
  }
  if (type !== undefined) {
    if (typeof type !== 'string') throw notAString('event', type)
    // NUL cannot break the frame, but the type becomes an addEventListener() name on the client:
    // refused as in `id`, so that every named field follows one rule.
    if (breaksLine(type)) {
      throw new SseError('invalid-field', 'The `event` field must not contain CR, LF or NUL', {
        field: 'event',
      })
    }
    fields += `event: ${type}\n`
  }
  if (id !== undefined) {
    if (typeof id !== 'string') throw notAString('id', id)
    if (breaksLine(id)) {
      // Clients ignore an id that contains NUL, so it would silently break resumption.
      throw new SseError('invalid-field', 'The `id` field must not contain CR, LF or NUL', {
        field: 'id',
      })
    }
    fields += `id: ${id}\n`
  }
  if (retry !== undefined) {
    if (typeof retry !== 'number' || !Number.isSafeInteger(retry) || retry < 0) {
      throw new SseError(
        'invalid-field',
        `The \`retry\` field must be a non-negative safe integer (milliseconds), got ${String(retry)}`,
        { field: 'retry' },
      )
    }
    fields += `retry: ${retry}\n`
  }
  return fields
}

/** Whether `text` holds no line break, so it goes out as one line. @internal */
export function isOneLine(text: string): boolean {
  return text.indexOf('\n') === -1 && text.indexOf('\r') === -1
}

/**
 * Encodes one event as the bytes of one Server-Sent Events frame.
 *
 * - `data`: a string is written as it is, split on CRLF, CR and LF into one `data:` line per line,
 *   so the client's `event.data` is the same string with every line break turned into LF. Any
 *   other value is serialised with `JSON.stringify`. `data: ''` writes one empty `data:` line,
 *   which clients dispatch as an event with empty data; `undefined` writes no `data:` line.
 * - `comment`: one `: ` line per line (a comment-only event is a frame clients ignore).
 * - `event`, `id`, `retry` are checked first: CR, LF or NUL in `event` or `id`, or a
 *   `retry` that is not a non-negative safe integer throws an {@link SseError} with code
 *   `invalid-field` naming the field, and nothing is encoded.
 * - Every line is `field: value` with one space, so a value's own leading space survives.
 * - The frame ends with a blank line; an empty object encodes to that blank line alone.
 * - Text is encoded as UTF-8 with `TextEncoder`, which turns a lone surrogate (half of a UTF-16
 *   pair) into U+FFFD: the client receives the replacement character, never invalid UTF-8.
 *
 * Field order is `comment`, `event`, `id`, `retry`, `data`.
 *
 * @param event - The event to encode.
 * @returns The frame's UTF-8 bytes.
 * @throws SseError `invalid-field` when a field would corrupt the frame, or when `data` cannot be
 *   serialised (a function, a symbol, a `bigint`, a cycle).
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 * @example
 * ```ts
 * import { encodeEvent } from '@ssekit/core'
 *
 * const bytes = encodeEvent({ event: 'price', id: '42', data: { symbol: 'ACME', price: 9.5 } })
 * new TextDecoder().decode(bytes)
 * // 'event: price\nid: 42\ndata: {"symbol":"ACME","price":9.5}\n\n'
 * ```
 * @public
 */
export function encodeEvent(event: SseEvent): Uint8Array {
  return encodeText(formatEvent(event))
}

/**
 * Whether the last text {@link encodeText} met was ASCII. Text that is not (most of a stream in
 * Chinese, say) takes `encode` straight away: `encodeInto` would fill an array too short for it,
 * and the rest would need a second array and a copy.
 */
let asciiLikely = true

/**
 * `text` as UTF-8 bytes, what `TextEncoder.encode` returns, but faster on the ASCII text that
 * frames mostly are: `encodeInto` writes straight into an array of the string's length, which is
 * the exact size when every character is ASCII, and skips `encode`'s length pass and its copy.
 * @internal
 */
export function encodeText(text: string): Uint8Array {
  const length = text.length
  if (!asciiLikely) {
    const encoded = encoder.encode(text)
    // As many bytes as code units: every one of them was ASCII.
    asciiLikely = encoded.byteLength === length
    return encoded
  }
  const bytes = new Uint8Array(length)
  const { read, written } = encoder.encodeInto(text, bytes)
  // Every code unit takes at least one byte, so all read means exactly `length` bytes written.
  if (read === length) return bytes
  asciiLikely = false
  return encodeRest(bytes, written, text.slice(read), [], 0)
}

/**
 * Encodes strings and already-encoded frames, in order, into one chunk, with one allocation when
 * the strings are ASCII. A long string stays a part of its own rather than being joined to the
 * text around it: joining would copy it once more, when V8 flattens the joined string for the
 * encoder, and for frames of kilobytes that copy cost more than the encoding itself.
 *
 * @param parts - Strings and encoded frames.
 * @param length - The strings' lengths plus the frames' byte lengths: the chunk's size when the
 *   strings are ASCII.
 * @internal
 */
export function encodeParts(parts: readonly (string | Uint8Array)[], length: number): Uint8Array {
  const chunk = new Uint8Array(length)
  let offset = 0
  for (let index = 0; index < parts.length; index++) {
    const part = parts[index] as string | Uint8Array
    if (typeof part === 'string') {
      const { read, written } = encoder.encodeInto(
        part,
        offset === 0 ? chunk : chunk.subarray(offset),
      )
      offset += written
      if (read !== part.length) return encodeRest(chunk, offset, part.slice(read), parts, index + 1)
    } else {
      // Text before it that is not ASCII took more bytes than characters.
      if (offset + part.byteLength > length)
        return encodeRest(chunk, offset, part, parts, index + 1)
      chunk.set(part, offset)
      offset += part.byteLength
    }
  }
  return chunk
}

/**
 * The way out when text is not ASCII and the chunk turned out too short: the bytes written so far,
 * then `first` and `parts` from `next` on, each encoded by size, joined into one array.
 */
function encodeRest(
  chunk: Uint8Array,
  written: number,
  first: string | Uint8Array,
  parts: readonly (string | Uint8Array)[],
  next: number,
): Uint8Array {
  const rest = [typeof first === 'string' ? encoder.encode(first) : first]
  let length = written + (rest[0] as Uint8Array).byteLength
  for (let index = next; index < parts.length; index++) {
    const part = parts[index] as string | Uint8Array
    const bytes = typeof part === 'string' ? encoder.encode(part) : part
    rest.push(bytes)
    length += bytes.byteLength
  }
  const whole = new Uint8Array(length)
  whole.set(chunk.subarray(0, written))
  let offset = written
  for (const bytes of rest) {
    whole.set(bytes, offset)
    offset += bytes.byteLength
  }
  return whole
}

/**
 * Validates and encodes an event once, and returns a copy that carries its bytes. Every stream
 * that sends the returned event writes those bytes as they are, so an event broadcast to many
 * clients is encoded once rather than once per client.
 *
 * @param event - The event to encode.
 * @returns A frozen copy of `event` with its encoded frame attached.
 * @throws SseError `invalid-field`, as {@link encodeEvent}.
 * @example
 * ```ts
 * import { createEncodedEvent, createEventStream } from '@ssekit/core'
 *
 * const update = createEncodedEvent({ event: 'update', data: { version: 3 } })
 * // Both streams write the same bytes; the event was encoded once.
 * const first = createEventStream([update])
 * const second = createEventStream([update])
 * ```
 * @public
 */
export function createEncodedEvent(event: SseEvent): EncodedEvent {
  const bytes = encodeEvent(event)
  return Object.freeze({ ...event, [frameKey]: bytes })
}

/** The pre-encoded frame an event carries, if {@link createEncodedEvent} made it. @internal */
export function encodedFrameOf(event: SseEvent): Uint8Array | undefined {
  const frame = (event as Partial<EncodedEvent>)[frameKey]
  return frame instanceof Uint8Array ? frame : undefined
}

/** Whether `value` holds CR, LF or NUL; a loop beats a regular expression on short names and ids. */
function breaksLine(value: string): boolean {
  if (value.length > 32) return crLfOrNul.test(value)
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index)
    if (code === 10 || code === 13 || code === 0) return true
  }
  return false
}

function prefixLines(prefix: string, text: string): string {
  // Most values are one line; skip the regular expression for them.
  if (isOneLine(text)) return `${prefix}${text}\n`
  return prefixEachLine(prefix, text)
}

function prefixEachLine(prefix: string, text: string): string {
  let lines = ''
  for (const line of text.split(lineBreak)) lines += `${prefix}${line}\n`
  return lines
}

/**
 * `data` as the string a client will see: a string as it is, anything else through `JSON.stringify`.
 * @internal
 */
export function serialise(data: unknown): string {
  if (typeof data === 'string') return data
  let json: string | undefined
  try {
    json = JSON.stringify(data)
  } catch (error) {
    throw new SseError(
      'invalid-field',
      'The `data` field could not be serialised with JSON.stringify',
      {
        field: 'data',
        cause: error,
      },
    )
  }
  if (json === undefined) {
    throw new SseError(
      'invalid-field',
      `The \`data\` field must be a string or a JSON value, got ${typeof data}`,
      { field: 'data' },
    )
  }
  return json
}

function notAString(field: string, value: unknown): SseError {
  return new SseError(
    'invalid-field',
    `The \`${field}\` field must be a string, got ${typeof value}`,
    {
      field,
    },
  )
}
