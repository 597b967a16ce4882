import { encodeEvent, type SseEvent } from '@ssekit/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { cutAt, parseChunks } from './_helpers.ts'

// Anything the core encoder writes, the parser reads back: data with every kind of line break
// (which the encoder splits into data lines and the parser joins with LF), unicode, empty
// strings, ids, types, retries and comments, however the bytes are cut.
const text = fc.string({
  unit: fc.oneof(
    fc.constantFrom('\r', '\n', '\r\n', ' ', ':', '\ufeff', '😀', 'é'),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
  ),
})
const singleLine = text.map((value) => value.replace(/[\r\n]/g, ''))
const sseEvent: fc.Arbitrary<SseEvent> = fc.record(
  {
    data: fc.oneof(text, fc.constant(''), fc.jsonValue()),
    event: singleLine,
    id: singleLine.map((value) => value.replace(/\0/g, '')),
    retry: fc.nat(),
    comment: text,
  },
  { requiredKeys: [] },
)

describe('round trip with @ssekit/core encodeEvent', () => {
  it('reads back exactly what encodeEvent wrote', () => {
    fc.assert(
      fc.property(
        fc.array(sseEvent, { maxLength: 8 }),
        fc.array(fc.nat({ max: 4000 }), { maxLength: 20 }),
        (events, cuts) => {
          const frames = events.map((event) => encodeEvent(event))
          const body = new Uint8Array(frames.reduce((sum, frame) => sum + frame.length, 0))
          let offset = 0
          for (const frame of frames) {
            body.set(frame, offset)
            offset += frame.length
          }
          const result = parseChunks([cutAt(body, cuts)])
          const expected: {
            type: string
            data: string
            lastEventId: string
            id: string | undefined
          }[] = []
          const retries: number[] = []
          const comments: string[] = []
          let lastEventId = ''
          for (const event of events) {
            if (event.comment !== undefined) comments.push(...event.comment.split(/\r\n|\r|\n/))
            if (event.retry !== undefined) retries.push(event.retry)
            if (event.id !== undefined) lastEventId = event.id
            if (event.data === undefined) continue
            const data = typeof event.data === 'string' ? event.data : JSON.stringify(event.data)
            expected.push({
              type: event.event || 'message',
              data: data.replace(/\r\n|\r/g, '\n'),
              lastEventId,
              id: event.id,
            })
          }
          expect(result.events).toEqual(expected)
          expect(result.retries).toEqual(retries)
          expect(result.comments).toEqual(comments)
          expect(result.parser.lastEventId).toBe(lastEventId)
        },
      ),
      { numRuns: 1000 },
    )
  })
})
