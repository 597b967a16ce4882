import { createEncodedEvent, encodeEvent, SseError, type SseEvent } from '@ssekit/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decode, parseText } from './_helpers.ts'

const table: Array<[string, SseEvent, string]> = [
  ['string data', { data: 'hello' }, 'data: hello\n\n'],
  ['empty object: the blank line alone', {}, '\n'],
  ['empty string data: one empty data line', { data: '' }, 'data: \n\n'],
  ['leading space kept by the one-space rule', { data: ' x' }, 'data:  x\n\n'],
  ['LF split', { data: 'a\nb' }, 'data: a\ndata: b\n\n'],
  ['CR split', { data: 'a\rb' }, 'data: a\ndata: b\n\n'],
  ['CRLF split', { data: 'a\r\nb' }, 'data: a\ndata: b\n\n'],
  ['LF CR is two breaks', { data: 'a\n\rb' }, 'data: a\ndata: \ndata: b\n\n'],
  [
    'trailing and repeated breaks',
    { data: 'what\n\nto\ndo\n\n' },
    'data: what\ndata: \ndata: to\ndata: do\ndata: \ndata: \n\n',
  ],
  ['object as JSON', { data: { a: 1, b: 'x\ny' } }, 'data: {"a":1,"b":"x\\ny"}\n\n'],
  ['number as JSON', { data: 0 }, 'data: 0\n\n'],
  ['null as JSON', { data: null }, 'data: null\n\n'],
  ['boolean as JSON', { data: false }, 'data: false\n\n'],
  [
    'every field, in order',
    { data: 'd', event: 'e', id: '7', retry: 1500, comment: 'c' },
    ': c\nevent: e\nid: 7\nretry: 1500\ndata: d\n\n',
  ],
  ['empty id resets the last event id', { id: '' }, 'id: \n\n'],
  ['retry zero', { retry: 0 }, 'retry: 0\n\n'],
  ['comment only', { comment: 'keep' }, ': keep\n\n'],
  ['multi-line comment', { comment: 'a\r\nb\rc\nd' }, ': a\n: b\n: c\n: d\n\n'],
  ['empty comment', { comment: '' }, ': \n\n'],
  ['field-like data stays data', { data: 'id: 5\nevent: x' }, 'data: id: 5\ndata: event: x\n\n'],
  ['non-ASCII', { data: 'é€😀' }, 'data: é€😀\n\n'],
  ['lone surrogate becomes U+FFFD', { data: 'a\uD800b' }, 'data: a\uFFFDb\n\n'],
]

const invalid: Array<[string, SseEvent, string]> = [
  ['LF in event', { event: 'a\nb' }, 'event'],
  ['CR in event', { event: 'a\rb' }, 'event'],
  ['NUL in event', { event: 'a\0b' }, 'event'],
  ['NUL in a long event name', { event: `${'x'.repeat(40)}\0` }, 'event'],
  ['LF in id', { id: 'a\nb' }, 'id'],
  ['CR in id', { id: '\r' }, 'id'],
  ['NUL in id', { id: 'a\0b' }, 'id'],
  ['negative retry', { retry: -1 }, 'retry'],
  ['fractional retry', { retry: 1.5 }, 'retry'],
  ['NaN retry', { retry: Number.NaN }, 'retry'],
  ['infinite retry', { retry: Number.POSITIVE_INFINITY }, 'retry'],
  ['unsafe retry', { retry: 2 ** 53 }, 'retry'],
  ['string retry', { retry: '10' as unknown as number }, 'retry'],
  ['numeric id', { id: 5 as unknown as string }, 'id'],
  ['non-string comment', { comment: 1 as unknown as string }, 'comment'],
  ['function data', { data: () => 1 }, 'data'],
  ['bigint data', { data: 1n }, 'data'],
  ['symbol data', { data: Symbol('x') }, 'data'],
]

describe('encodeEvent', () => {
  it.each(table)('%s', (_name, event, expected) => {
    expect(decode(encodeEvent(event))).toBe(expected)
  })

  it.each(invalid)('rejects %s with invalid-field naming the field', (_name, event, field) => {
    let caught: unknown
    try {
      encodeEvent({ data: 'never emitted', ...event })
    } catch (error) {
      caught = error
    }
    expect(SseError.isInstance(caught)).toBe(true)
    expect((caught as SseError).code).toBe('invalid-field')
    expect((caught as SseError).field).toBe(field)
  })

  it('rejects a cyclic data value, keeping the cause', () => {
    const cyclic: { self?: unknown } = {}
    cyclic.self = cyclic
    expect(() => encodeEvent({ data: cyclic })).toThrow(
      expect.objectContaining({
        code: 'invalid-field',
        field: 'data',
        cause: expect.any(TypeError),
      }),
    )
  })

  it('rejects something that is not an event with a TypeError', () => {
    expect(() => encodeEvent('hello' as unknown as SseEvent)).toThrow(TypeError)
    expect(() => encodeEvent(null as unknown as SseEvent)).toThrow(/must be an object/)
  })
})

describe('createEncodedEvent', () => {
  it('carries the same bytes as encodeEvent under the shared frame symbol', () => {
    const event = { event: 'x', id: '1', data: { n: 1 } }
    const encoded = createEncodedEvent(event)
    const frame = (encoded as unknown as Record<symbol, Uint8Array>)[Symbol.for('ssekit.frame')]
    expect(frame).toBeInstanceOf(Uint8Array)
    expect(decode(frame as Uint8Array)).toBe(decode(encodeEvent(event)))
    expect(encoded).toMatchObject(event)
    expect(Object.isFrozen(encoded)).toBe(true)
  })

  it('validates like encodeEvent', () => {
    expect(() => createEncodedEvent({ id: '\n' })).toThrow(expect.objectContaining({ field: 'id' }))
  })
})

// Strings that favour the characters that break frames.
const hostileChar = fc.constantFrom(
  '\r',
  '\n',
  '\r\n',
  '\0',
  ' ',
  ':',
  '\uD800',
  '\uDC00',
  'é',
  '😀',
)
const hostileString = fc
  .array(fc.oneof(fc.string({ unit: 'binary', maxLength: 4 }), hostileChar), { maxLength: 12 })
  .map((parts) => parts.join(''))

function wellFormed(text: string): string {
  return (text as string & { toWellFormed(): string }).toWellFormed()
}

describe('encodeEvent against a spec-exact parser (eventsource-parser)', () => {
  it('round-trips any string data, line breaks normalised to LF', () => {
    fc.assert(
      fc.property(hostileString, (data) => {
        const parsed = parseText(decode(encodeEvent({ data })))
        expect(parsed.events).toEqual([
          { id: undefined, event: undefined, data: wellFormed(data.replace(/\r\n|\r/g, '\n')) },
        ])
      }),
      { numRuns: 2000 },
    )
  })

  it('no event, id, retry or comment value adds a field or an event: it throws or parses back', () => {
    const event = fc.record(
      {
        data: fc.option(hostileString, { nil: undefined }),
        event: fc.option(hostileString, { nil: undefined }),
        id: fc.option(hostileString, { nil: undefined }),
        retry: fc.option(fc.oneof(fc.integer(), fc.double(), fc.constant(2 ** 53)), {
          nil: undefined,
        }),
        comment: fc.option(hostileString, { nil: undefined }),
      },
      { requiredKeys: [] },
    )
    fc.assert(
      fc.property(event, (input) => {
        let text: string
        try {
          text = decode(encodeEvent(input))
        } catch (error) {
          expect(SseError.isInstance(error) && error.code === 'invalid-field').toBe(true)
          const field = (error as SseError).field
          if (field === 'event') expect(input.event).toMatch(/[\r\n\0]/)
          else if (field === 'id') expect(input.id).toMatch(/[\r\n\0]/)
          else if (field === 'retry') {
            expect(Number.isSafeInteger(input.retry) && (input.retry as number) >= 0).toBe(false)
          } else expect.unreachable(`unexpected field ${String(field)}`)
          return
        }
        // A second event right after proves the first frame was closed exactly where it should.
        const parsed = parseText(`${text}data: sentinel\n\n`)
        const expectedComments =
          input.comment === undefined ? [] : wellFormed(input.comment).split(/\r\n|\r|\n/)
        expect(parsed.comments).toEqual(expectedComments)
        // -0 is written as 0.
        expect(parsed.retries).toEqual(input.retry === undefined ? [] : [input.retry + 0])
        const sentinel = {
          id: input.id === undefined ? undefined : wellFormed(input.id),
          event: undefined,
          data: 'sentinel',
        }
        if (input.data === undefined) {
          // No data, no event: but the id still sticks to the next one, as the spec says. The
          // parser reports the id only with an event, and the sentinel frame sets none.
          expect(parsed.events).toHaveLength(1)
          expect(parsed.events[0]?.data).toBe('sentinel')
        } else {
          expect(parsed.events).toEqual([
            {
              id: input.id === undefined ? undefined : wellFormed(input.id),
              event:
                input.event === undefined || input.event === ''
                  ? undefined
                  : wellFormed(input.event),
              data: wellFormed(input.data.replace(/\r\n|\r/g, '\n')),
            },
            { ...sentinel, id: undefined },
          ])
        }
      }),
      { numRuns: 3000 },
    )
  })
})
