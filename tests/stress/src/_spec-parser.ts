/**
 * A deliberately plain transcription of the WHATWG "interpret an event stream" steps, written for
 * the fuzz tests as an oracle: it works on the whole decoded text at once, with no chunking, no
 * limits and no optimisation, so it shares no code path (and no bug) with `@ssekit/fetch-client`.
 *
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */

/** One dispatched event as a browser's `MessageEvent` would carry it. */
export interface SpecEvent {
  type: string
  data: string
  lastEventId: string
}

/** Everything a spec parser observes in a stream. */
export interface SpecResult {
  events: SpecEvent[]
  /** The last event id after each block that carried a valid `id` field (what `onId` reports). */
  ids: string[]
  retries: number[]
  comments: string[]
  /** Every field name the parser saw, in order, including names it ignores. */
  fields: string[]
}

/** Decodes bytes as a browser does: UTF-8, one leading BOM stripped, errors replaced. */
export function decodeStream(bytes: Uint8Array): string {
  return new TextDecoder('utf-8').decode(bytes)
}

/** Interprets a decoded event stream. The unterminated last line and undispatched event are dropped. */
export function specParse(text: string, initialLastEventId = ''): SpecResult {
  const result: SpecResult = { events: [], ids: [], retries: [], comments: [], fields: [] }
  let data = ''
  let eventType = ''
  let lastEventIdBuffer = initialLastEventId
  let blockHadId = false
  // "Lines must be separated by either a CRLF pair, a single LF, or a single CR."
  const lines: string[] = []
  let start = 0
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index)
    if (code === 10 || code === 13) {
      lines.push(text.slice(start, index))
      if (code === 13 && text.charCodeAt(index + 1) === 10) index++
      start = index + 1
    }
  }
  // Whatever follows the last line end is an incomplete line: never processed.
  for (const line of lines) {
    if (line === '') {
      if (blockHadId) result.ids.push(lastEventIdBuffer)
      blockHadId = false
      if (data === '') {
        eventType = ''
        continue
      }
      if (data.endsWith('\n')) data = data.slice(0, -1)
      result.events.push({
        type: eventType === '' ? 'message' : eventType,
        data,
        lastEventId: lastEventIdBuffer,
      })
      data = ''
      eventType = ''
      continue
    }
    if (line.startsWith(':')) {
      result.comments.push(line.slice(1).startsWith(' ') ? line.slice(2) : line.slice(1))
      continue
    }
    const colon = line.indexOf(':')
    let field = line
    let value = ''
    if (colon !== -1) {
      field = line.slice(0, colon)
      value = line.slice(colon + 1)
      if (value.startsWith(' ')) value = value.slice(1)
    }
    result.fields.push(field)
    if (field === 'event') eventType = value
    else if (field === 'data') data += `${value}\n`
    else if (field === 'id') {
      if (!value.includes('\0')) {
        lastEventIdBuffer = value
        blockHadId = true
      }
    } else if (field === 'retry') {
      if (/^[0-9]+$/.test(value)) result.retries.push(Number.parseInt(value, 10))
    }
  }
  return result
}
