import { SseError } from '@ssekit/core'
import { createParser } from '@ssekit/fetch-client'
import { describe, expect, it } from 'vitest'
import { chunkings, parseChunks } from './_helpers.ts'
import { bytes, type ParserVector, specVectors, wptVectors } from './_vectors.ts'

function expectVector(vector: ParserVector, connections: Uint8Array[][], how: string): void {
  const result = parseChunks(connections)
  const context = `${vector.name} (${how})`
  expect(result.events, context).toEqual(vector.events)
  if (vector.retries) expect(result.retries, context).toEqual(vector.retries)
  if (vector.ids) expect(result.ids, context).toEqual(vector.ids)
  if (vector.comments) expect(result.comments, context).toEqual(vector.comments)
}

describe.each([
  ['web-platform-tests', wptVectors],
  ['spec', specVectors],
])('%s vectors', (_, vectors) => {
  it.each(vectors.map((vector) => [vector.name, vector] as const))('%s', (_name, vector) => {
    // Each connection cut every way in turn, the others whole.
    vector.bodies.forEach((body, index) => {
      for (const { name, chunks } of chunkings(body)) {
        const connections = vector.bodies.map((other, at) => (at === index ? chunks : [other]))
        expectVector(vector, connections, `connection ${index + 1}: ${name}`)
      }
    })
    expectVector(
      vector,
      vector.bodies.map((body) => Array.from(body, (byte) => Uint8Array.of(byte))),
      'every connection byte by byte',
    )
  })
})

describe('createParser', () => {
  it('treats a CR at the end of one chunk and an LF at the start of the next as one line end', () => {
    const result = parseChunks([
      [bytes('data: a\r'), bytes('\ndata: b\r'), bytes('\n\r'), bytes('\n')],
    ])
    expect(result.events).toEqual([{ type: 'message', data: 'a\nb', lastEventId: '' }])
  })

  it('keeps the swallow-LF flag across empty chunks and chunks held by the decoder', () => {
    const result = parseChunks([
      [
        bytes('data: a\r'),
        bytes(''),
        bytes('\n'),
        bytes('data: ', [0xe2]),
        bytes([0x82, 0xac], '\r'),
        bytes('\n\n'),
      ],
    ])
    expect(result.events).toEqual([{ type: 'message', data: 'a\n€', lastEventId: '' }])
  })

  it('reads a field name only at the start of a line, however a long line is cut', () => {
    // A data line cut before its end keeps only its value: text that looks like a field name
    // later in that value, at the start of a later chunk, is value, and other fields still parse.
    const result = parseChunks([
      [
        bytes('data: data: one'),
        bytes('data: two'),
        bytes(':three\n'),
        bytes('data:'),
        bytes(' four\nid'),
        bytes(': 7\n'),
        bytes('event: x'),
        bytes('y\n\n'),
      ],
    ])
    expect(result.events).toEqual([
      {
        type: 'xy',
        data: 'data: onedata: two:three\nfour',
        lastEventId: '7',
        id: '7',
      },
    ])
    const long = 'z'.repeat(100_000)
    const chunks = [bytes('data: ')]
    for (let offset = 0; offset < long.length; offset += 1000) {
      chunks.push(bytes(long.slice(offset, offset + 1000)))
    }
    chunks.push(bytes('\n\n'))
    expect(parseChunks([chunks]).events).toEqual([{ type: 'message', data: long, lastEventId: '' }])
  })

  it('keeps a split character across an empty chunk', () => {
    const result = parseChunks([[bytes('data: ', [0xe2, 0x82]), bytes(''), bytes([0xac], '\n\n')]])
    expect(result.events).toEqual([{ type: 'message', data: '€', lastEventId: '' }])
  })

  it('decodes a multi-byte character split over several chunks, byte by byte', () => {
    const body = bytes('data: 𝄞€é\n\n')
    const result = parseChunks([Array.from(body, (byte) => Uint8Array.of(byte))])
    expect(result.events[0]?.data).toBe('𝄞€é')
  })

  it('strips a BOM split across chunks, and does not let an empty first chunk use up the check', () => {
    const result = parseChunks([
      [bytes(''), bytes([0xef]), bytes([0xbb]), bytes([0xbf], 'data: a\n\n')],
    ])
    expect(result.events).toEqual([{ type: 'message', data: 'a', lastEventId: '' }])
  })

  it('reports the id of the block on the event, and undefined when the block had none', () => {
    const result = parseChunks([[bytes('id: 1\ndata: a\n\ndata: b\n\n')]])
    expect(result.events.map((event) => event.id)).toEqual(['1', undefined])
    expect(result.parser.lastEventId).toBe('1')
  })

  it('starts from options.lastEventId and keeps the last event id across reset()', () => {
    const events: string[] = []
    const parser = createParser({
      lastEventId: 'start',
      onEvent: (event) => events.push(event.lastEventId),
    })
    parser.feed(bytes('data: a\n\nid: 2\ndata: b\n\n'))
    parser.reset()
    parser.feed(bytes('data: c\n\n'))
    parser.reset({ lastEventId: 'x' })
    parser.feed(bytes('data: d\n\n'))
    expect(events).toEqual(['start', '2', '2', 'x'])
  })

  it('reset() drops the unterminated line and event of the old connection', () => {
    const result = parseChunks([[bytes('data: lost\ndata: half')], [bytes('data: kept\n\n')]])
    expect(result.events).toEqual([{ type: 'message', data: 'kept', lastEventId: '' }])
  })

  it('rejects options that are not an object, and bad limits, with a TypeError that says why', () => {
    // @ts-expect-error a function is a common mistake
    expect(() => createParser(() => {})).toThrow(/createParser\(\{ onEvent: fn \}\)/)
    // @ts-expect-error null is not options
    expect(() => createParser(null)).toThrow(TypeError)
    expect(() => createParser({ maxLineBytes: 0 })).toThrow(
      /maxLineBytes must be a positive number/,
    )
    expect(() => createParser({ maxEventBytes: Number.NaN })).toThrow(TypeError)
  })
})

describe('limits', () => {
  it('throws line-too-long from feed() when an unterminated line passes maxLineBytes', () => {
    const parser = createParser({ maxLineBytes: 100 })
    parser.feed(bytes(`data: ${'a'.repeat(90)}`))
    let caught: unknown
    try {
      parser.feed(bytes('a'.repeat(20)))
    } catch (error) {
      caught = error
    }
    expect(SseError.isInstance(caught)).toBe(true)
    expect((caught as SseError).code).toBe('line-too-long')
  })

  it('counts bytes, not characters: 40 three-byte characters pass a 100-byte line limit', () => {
    const errors: Error[] = []
    const parser = createParser({ maxLineBytes: 100, onError: (error) => errors.push(error) })
    parser.feed(bytes(`data: ${'€'.repeat(40)}`))
    expect(errors.map((error) => (error as SseError).code)).toEqual(['line-too-long'])
    const fine = createParser({ maxLineBytes: 130, onError: (error) => errors.push(error) })
    fine.feed(bytes(`data: ${'€'.repeat(40)}`))
    expect(errors).toHaveLength(1)
  })

  it('allows many lines and events whose total passes the limits, as long as each one ends in time', () => {
    const events: string[] = []
    const parser = createParser({
      maxLineBytes: 64,
      maxEventBytes: 256,
      onEvent: (event) => events.push(event.data),
    })
    const body = bytes(`${'data: 0123456789\n\n'.repeat(1000)}`)
    for (let start = 0; start < body.length; start += 7)
      parser.feed(body.subarray(start, start + 7))
    expect(events).toHaveLength(1000)
  })

  it('reports event-too-large to onError once, then ignores input until reset()', () => {
    const errors: SseError[] = []
    const events: string[] = []
    const parser = createParser({
      maxLineBytes: 64,
      maxEventBytes: 200,
      onError: (error) => errors.push(error as SseError),
      onEvent: (event) => events.push(event.data),
    })
    for (let index = 0; index < 50; index++) parser.feed(bytes('data: 0123456789\n'))
    parser.feed(bytes('\ndata: after\n\n'))
    expect(errors.map((error) => error.code)).toEqual(['event-too-large'])
    expect(events).toEqual([])
    parser.reset()
    parser.feed(bytes('data: after reset\n\n'))
    expect(events).toEqual(['after reset'])
  })

  it('limits an event that grows inside a single chunk', () => {
    const errors: string[] = []
    const parser = createParser({
      maxEventBytes: 1000,
      onError: (error) => errors.push((error as SseError).code),
    })
    parser.feed(bytes('data: x\n'.repeat(200)))
    expect(errors).toEqual(['event-too-large'])
  })

  it('does not count comments and other fields outside an event towards maxEventBytes', () => {
    const events: string[] = []
    const parser = createParser({ maxEventBytes: 100, onEvent: (event) => events.push(event.data) })
    for (let index = 0; index < 100; index++) parser.feed(bytes(': keep-alive\nretry: 10\n'))
    parser.feed(bytes('data: ok\n\n'))
    expect(events).toEqual(['ok'])
  })

  it('keeps memory bounded: a never-ending line is dropped when it passes the limit', () => {
    const errors: string[] = []
    const parser = createParser({
      maxLineBytes: 1 << 16,
      onError: (error) => errors.push((error as SseError).code),
    })
    const chunk = new Uint8Array(4096).fill(0x61)
    for (let index = 0; index < 1000; index++) parser.feed(chunk)
    expect(errors).toEqual(['line-too-long'])
  })

  it('can be switched off with Infinity', () => {
    const events: number[] = []
    const parser = createParser({
      maxLineBytes: Number.POSITIVE_INFINITY,
      maxEventBytes: Number.POSITIVE_INFINITY,
      onEvent: (event) => events.push(event.data.length),
    })
    const chunk = new Uint8Array(1 << 16).fill(0x61)
    parser.feed(bytes('data: '))
    for (let index = 0; index < 40; index++) parser.feed(chunk)
    parser.feed(bytes('\n\n'))
    expect(events).toEqual([40 << 16])
  })

  it('has limits on by default (1 MiB line)', () => {
    const parser = createParser({})
    expect(() => parser.feed(new Uint8Array((1 << 20) + 1).fill(0x61))).toThrow(/maxLineBytes/)
  })
})
