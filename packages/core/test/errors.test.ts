import { SseError } from '@ssekit/core'
import { describe, expect, it } from 'vitest'

describe('SseError', () => {
  it('carries a code and field, and is recognised across copies by its marker', () => {
    const error = new SseError('invalid-field', 'bad', { field: 'id' })
    expect(error.code).toBe('invalid-field')
    expect(error.field).toBe('id')
    expect(SseError.isInstance(error)).toBe(true)
    const foreign = Object.assign(new Error('x'), { [Symbol.for('ssekit.error')]: true })
    expect(SseError.isInstance(foreign)).toBe(true)
    expect(SseError.isInstance(new Error('x'))).toBe(false)
    expect(SseError.isInstance(null)).toBe(false)
  })
})
