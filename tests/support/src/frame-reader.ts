import { withTimeout } from './with-timeout.ts'

/**
 * Reads an event stream's body (a fetch `Response.body`) frame by frame: the raw text between blank
 * lines, so a test sees exactly what the server wrote. Every read is bounded to 5 s.
 *
 * @example
 * ```ts
 * const frames = frameReader((await fetch(url)).body)
 * expect(await frames.next('opening comment')).toBe(':')
 * expect(await frames.next('first event')).toBe('id: 1\ndata: hello')
 * await frames.cancel()
 * ```
 */
export function frameReader(body: ReadableStream<Uint8Array> | null) {
  if (body === null) throw new TypeError('the response has no body')
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  return {
    /** The next frame's raw text, or `undefined` at the end of the body. */
    async next(label: string): Promise<string | undefined> {
      for (;;) {
        const end = buffer.indexOf('\n\n')
        if (end !== -1) {
          const frame = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          return frame
        }
        const { done, value } = await withTimeout(reader.read(), 5000, label)
        if (done) return undefined
        buffer += decoder.decode(value, { stream: true })
      }
    },
    /** Everything until the end of the body. */
    async rest(label: string): Promise<string> {
      let text = buffer
      buffer = ''
      for (;;) {
        const { done, value } = await withTimeout(reader.read(), 5000, label)
        if (done) return text
        text += decoder.decode(value, { stream: true })
      }
    },
    cancel: () => reader.cancel(),
  }
}
