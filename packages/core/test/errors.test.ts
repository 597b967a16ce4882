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
    for (const value of [null, undefined, 'SseError', 0, true, Symbol.for('ssekit.error')]) {
      expect(SseError.isInstance(value)).toBe(false)
    }
  })

  it('keeps the cause, and the details it was given', () => {
    const cause = new Error('socket hang up')
    const error = new SseError('bad-status', 'HTTP 503', { status: 503, cause })
    expect(error.cause).toBe(cause)
    expect(error.status).toBe(503)
    expect(error.field).toBeUndefined()
    expect(error.name).toBe('SseError')
    expect(error.message).toBe('HTTP 503')
    expect(new SseError('closed', 'closed').cause).toBeUndefined()
  })
})
