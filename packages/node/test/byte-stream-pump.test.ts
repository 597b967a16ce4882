import { describe, expect, it } from 'vitest'
import { endsFrame } from '../src/_byte-stream-pump.ts'

const bytes = (text: string) => new TextEncoder().encode(text)

describe('endsFrame', () => {
  it.each([
    ['data: a\n\n', true],
    ['data: a\r\n\r\n', true],
    ['data: a\r\r', true],
    ['data: a\n\r', true],
    ['data: a\r\n\n', true],
    ['data: a\n\r\n', true],
    ['data: a\r\r\n', true],
    ['\n\n', true],
    ['data: a\n', false],
    ['data: a\r\n', false],
    ['data: a\r', false],
    ['data: a', false],
    ['\n', false],
    ['', false],
  ])('%j ends a frame: %s', (text, expected) => {
    expect(endsFrame(bytes(text))).toBe(expected)
  })
})
