import {
  createEncodedEvent,
  createEventStream,
  encodeEvent,
  SseError,
  type SseEvent,
} from '@ssekit/core'
import { createParser, type ServerSentEvent } from '@ssekit/fetch-client'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { report, seed, size } from '../src/_params.ts'
import { decodeStream, specParse } from '../src/_spec-parser.ts'

// Every C0 control character, DEL, the C1 range's NEL, the Unicode line and paragraph separators,
// a BOM, both halves of a surrogate pair on their own, and a few ordinary characters.
const hostileCharacters = [
  ...Array.from({ length: 32 }, (_, code) => String.fromCharCode(code)),
  '\u007f',
  '\u0085',
  '\u2028',
  '\u2029',
  '\ufeff',
  '\ud800',
  '\udfff',
  '\ud83d\ude00',
  ' ',
  ':',
  'a',
  'é',
  'data: x',
  'event: y',
  'id: z',
  'retry: 1',
  '\r\n\r\n',
  '\n\n',
]
const hostileText = fc
  .array(
    fc.oneof(fc.constantFrom(...hostileCharacters), fc.string({ unit: 'binary', maxLength: 4 })),
    {
      maxLength: 24,
    },
  )
  .map((parts) => parts.join(''))

const runs = size(2_000, 50_000)
let cases = 0

/** What a client must see for an event the encoder accepted, computed from the event alone. */
function expectedFor(event: SseEvent, lastEventId: string) {
  // TextEncoder writes a lone surrogate as U+FFFD; every line break becomes LF.
  const wellFormed = (text: string) =>
    new TextDecoder('utf-8', { ignoreBOM: true }).decode(new TextEncoder().encode(text))
  const id = event.id === undefined ? lastEventId : wellFormed(event.id)
  const data =
    event.data === undefined
      ? undefined
      : wellFormed(
          typeof event.data === 'string' ? event.data : JSON.stringify(event.data),
        ).replace(/\r\n|\r|\n/g, '\n')
  return {
    lastEventId: id,
    event:
      data === undefined
        ? undefined
        : {
            type:
              event.event === undefined || event.event === '' ? 'message' : wellFormed(event.event),
            data,
            lastEventId: id,
          },
    fields: [
      ...(event.event === undefined ? [] : ['event']),
      ...(event.id === undefined ? [] : ['id']),
      ...(event.retry === undefined ? [] : ['retry']),
      ...(data === undefined ? [] : data.split('\n').map(() => 'data')),
    ],
  }
}

function ourParse(bytes: Uint8Array): ServerSentEvent[] {
  const events: ServerSentEvent[] = []
  createParser({ onEvent: (event) => events.push(event) }).feed(bytes)
  return events
}

const anyEvent = fc.record(
  {
    data: fc.oneof(hostileText, fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined)),
    // Half the time stripped of what makes them invalid, so most events reach the parsers.
    event: fc.oneof(
      hostileText,
      hostileText.map((text) => text.replace(/[\r\n\0]/g, '')),
    ),
    id: fc.oneof(
      hostileText,
      hostileText.map((text) => text.replace(/[\r\n\0]/g, '')),
    ),
    retry: fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.constant(Number.MAX_SAFE_INTEGER + 1)),
    comment: hostileText,
  },
  { requiredKeys: [] },
)

describe('encoder fuzzing: no input makes a client see a field or an event the caller did not write', () => {
  it('either refuses an event with SseError invalid-field, or encodes exactly it', () => {
    let refused = 0
    fc.assert(
      fc.property(anyEvent, (event) => {
        cases++
        const badEvent = event.event !== undefined && /[\r\n\0]/.test(event.event)
        const badId = event.id !== undefined && /[\r\n\0]/.test(event.id)
        const badRetry =
          event.retry !== undefined && !(Number.isSafeInteger(event.retry) && event.retry >= 0)
        let bytes: Uint8Array
        try {
          bytes = encodeEvent(event)
        } catch (error) {
          expect(SseError.isInstance(error) && error.code === 'invalid-field').toBe(true)
          expect(badEvent || badId || badRetry).toBe(true)
          refused++
          return
        }
        expect(badEvent || badId || badRetry).toBe(false)
        const expected = expectedFor(event, 'before')
        const seen = specParse(decodeStream(bytes), 'before')
        expect(seen.fields).toEqual(expected.fields)
        expect(seen.events).toEqual(expected.event === undefined ? [] : [expected.event])
        // -0 is written as 0.
        expect(seen.retries).toEqual(event.retry === undefined ? [] : [Math.abs(event.retry)])
        const commentLines = event.comment === undefined ? [] : event.comment.split(/\r\n|\r|\n/)
        expect(seen.comments.length).toBe(commentLines.length)
        // Our own client agrees with the oracle.
        expect(
          ourParse(bytes).map(({ type, data, lastEventId }) => ({ type, data, lastEventId })),
        ).toEqual(
          seen.events.map((item) => ({
            ...item,
            lastEventId: item.lastEventId === 'before' ? '' : item.lastEventId,
          })),
        )
      }),
      { seed, numRuns: runs },
    )
    report('encoder fuzz: single events (cases, refused)', { cases: runs, refused })
    expect(refused).toBeGreaterThan(0)
  })

  it('keeps frame boundaries: a sequence of events parses back to the same sequence, through createEventStream too', async () => {
    const validEvent = fc.record(
      {
        data: fc.oneof(hostileText, fc.jsonValue({ maxDepth: 1 })),
        event: hostileText.map((text) => text.replace(/[\r\n\0]/g, '')),
        id: hostileText.map((text) => text.replace(/[\r\n\0]/g, '')),
        comment: hostileText,
      },
      { requiredKeys: ['data'] },
    )
    await fc.assert(
      fc.asyncProperty(
        fc.array(validEvent, { maxLength: 12 }),
        fc.boolean(),
        async (events, preEncoded) => {
          cases++
          const source = preEncoded ? events.map((event) => createEncodedEvent(event)) : events
          const body = await new Response(
            createEventStream(source, { heartbeat: false }),
          ).arrayBuffer()
          const seen = specParse(decodeStream(new Uint8Array(body)))
          let lastEventId = ''
          const expected = events.map((event) => {
            const item = expectedFor(event, lastEventId)
            lastEventId = item.lastEventId
            return item.event
          })
          expect(seen.events).toEqual(expected)
        },
      ),
      { seed, numRuns: size(500, 10_000) },
    )
  })

  it('encodes a huge value full of control characters and line breaks exactly', () => {
    const megabytes = size(4, 64)
    const unit = hostileCharacters
      .filter((character) => character !== '\r' && character !== '\n')
      .join('')
    let data = ''
    while (data.length < megabytes * 1_048_576) data += `${unit}\r\n${unit}\r${unit}\n`
    const bytes = encodeEvent({
      event: unit.replace(/[\r\n\0]/g, ''),
      data,
      comment: data.slice(0, 10_000),
    })
    const seen = specParse(decodeStream(bytes))
    expect(seen.events).toHaveLength(1)
    const expected = expectedFor({ data }, '')
    expect(seen.events[0]?.data).toBe(expected.event?.data)
    expect(ourParse(bytes)[0]?.data).toBe(expected.event?.data)
    report('encoder fuzz: huge value (MiB of data, bytes out)', {
      megabytes,
      bytes: bytes.byteLength,
    })
  })

  it('reports the number of cases run', () => {
    report('encoder fuzz: total cases', cases)
    expect(cases).toBeGreaterThan(0)
  })
})
