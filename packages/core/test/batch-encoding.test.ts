// How the pump turns a batch of frames into one chunk: long data is encoded where it is rather
// than joined to the text around it, every chunk is allocated at its exact size, and text that is
// not ASCII falls back to sizing by the encoder. The oracle is a plain template string per frame
// through TextEncoder.encode, the seed's writer, which none of that code uses.
import { createEncodedEvent, createEventStream, encodeEvent, type SseEvent } from '@ssekit/core'
import { createEventPump } from '@ssekit/core/adapter'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decode, RecordingSink, readChunks, withTimeout } from './_helpers.ts'

interface Plain {
  event?: string
  id?: string
  data: string
}

const textEncoder = new TextEncoder()
const opening = ':\n\n'

/** The frame a spec-exact writer produces for one event with string data. */
function reference(event: Plain): string {
  let frame = ''
  if (event.event !== undefined) frame += `event: ${event.event}\n`
  if (event.id !== undefined) frame += `id: ${event.id}\n`
  for (const line of event.data.split(/\r\n|\r|\n/)) frame += `data: ${line}\n`
  return `${frame}\n`
}

function referenceBytes(events: readonly Plain[]): Uint8Array {
  return textEncoder.encode(opening + events.map(reference).join(''))
}

function joined(chunks: readonly Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.byteLength, 0))
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return bytes
}

async function* fromArray<T>(events: readonly T[]): AsyncGenerator<T> {
  for (const event of events) yield event
}

function streamChunks(
  events: readonly SseEvent[],
  source: 'array' | 'async',
): Promise<Uint8Array[]> {
  const stream = createEventStream(source === 'array' ? events : fromArray(events), {
    heartbeat: false,
  })
  return withTimeout(readChunks(stream), 5_000, `reading a stream from an ${source} source`)
}

const long = JSON.stringify({ items: Array.from({ length: 40 }, (_, index) => `item-${index}`) })
const ascii = long.repeat(4) // a one-line ASCII payload of well over 1 KiB
const chinese = '事件流'.repeat(600)
const emoji = '😀'.repeat(700)

const mixed: Plain[] = [
  { event: 'snapshot', id: '1', data: ascii },
  { data: 'short' },
  { event: 'snapshot', id: '2', data: ascii },
  { id: '3', data: `${chinese}${ascii}` },
  { data: ascii },
  { event: 'emoji', data: emoji },
  { data: `a\uD800${ascii}` },
  { data: `${ascii}\n${ascii}\r\n${chinese}` },
  { id: '4', data: ascii },
]

describe('a batch of frames with long data', () => {
  for (const source of ['array', 'async'] as const) {
    it(`writes the same bytes as a template string per frame (${source} source)`, async () => {
      const chunks = await streamChunks(mixed, source)
      expect(joined(chunks)).toEqual(referenceBytes(mixed))
    })
  }

  it('coalesces a burst of long frames into a few chunks of whole frames', async () => {
    const events: Plain[] = Array.from({ length: 200 }, (_, index) => ({
      event: 'snapshot',
      id: String(index),
      data: ascii,
    }))
    const chunks = await streamChunks(events, 'array')
    // One chunk per frame would be 200; the opening comment is one more.
    expect(chunks.length).toBeLessThan(20)
    const frames = chunks.slice(1).map(decode)
    for (const text of frames)
      expect(text.endsWith('\n\n') && text.startsWith('event: ')).toBe(true)
    expect(frames.join('')).toBe(events.map(reference).join(''))
  })

  it('hands out chunks that are their whole buffer, with no spare bytes behind them', async () => {
    for (const source of ['array', 'async'] as const) {
      const chunks = await streamChunks([...mixed, ...mixed.map((event) => ({ ...event }))], source)
      for (const chunk of chunks) {
        expect(chunk.byteOffset).toBe(0)
        expect(chunk.buffer.byteLength).toBe(chunk.byteLength)
      }
    }
  })

  it('keeps pre-encoded frames in order after text that is not ASCII', async () => {
    const encoded = createEncodedEvent({ id: 'pre', data: ascii })
    const events: SseEvent[] = [
      { data: chinese },
      { data: ascii },
      encoded,
      { data: 'é' },
      encoded,
      { data: ascii },
    ]
    const plain: Plain[] = [
      { data: chinese },
      { data: ascii },
      { id: 'pre', data: ascii },
      { data: 'é' },
      { id: 'pre', data: ascii },
      { data: ascii },
    ]
    for (const source of ['array', 'async'] as const) {
      expect(joined(await streamChunks(events, source))).toEqual(referenceBytes(plain))
    }
    // The frame the other streams share is untouched.
    expect(decode(encoded[Symbol.for('ssekit.frame') as never] as Uint8Array)).toBe(
      reference({ id: 'pre', data: ascii }),
    )
  })

  it('rejects an event whose other field is invalid, writing none of its frame', () => {
    const sink = new RecordingSink()
    const errors: unknown[] = []
    createEventPump(
      [
        { id: '1', data: ascii },
        { event: 'bad\nname', id: '2', data: ascii },
      ],
      sink,
      { heartbeat: false, onError: (error) => void errors.push(error) },
    )
    expect(errors).toHaveLength(1)
    expect(sink.text).toBe(opening + reference({ id: '1', data: ascii }))
  })

  it('matches the template writer on any events, ASCII or not, long or short', async () => {
    const text = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.string({ unit: 'grapheme-ascii', minLength: 1_000, maxLength: 3_000 }),
      fc.string({ unit: 'binary', minLength: 1_000, maxLength: 2_000 }),
    )
    const event = fc.record(
      {
        event: fc.stringMatching(/^[a-z]{1,8}$/),
        id: fc.stringMatching(/^[0-9]{1,6}$/),
        data: text,
      },
      { requiredKeys: ['data'] },
    )
    await fc.assert(
      fc.asyncProperty(
        fc.array(event, { maxLength: 40 }),
        fc.constantFrom('array' as const, 'async' as const),
        async (events, source) => {
          const chunks = await streamChunks(events, source)
          expect(joined(chunks)).toEqual(referenceBytes(events))
          for (const one of events) {
            expect(encodeEvent(one)).toEqual(textEncoder.encode(reference(one)))
          }
        },
      ),
      // No shrinking: halving kilobyte strings one step at a time takes minutes.
      { numRuns: 60, endOnFailure: true },
    )
  })
})
