import { type CloseReason, encodeEvent } from '@ssekit/core'
import type { EventPump, EventSink } from '@ssekit/core/adapter'

const lineFeed = 0x0a
const carriageReturn = 0x0d

/**
 * Whether `chunk` ends with a blank line (two line ends in a row, each CRLF, LF or CR), so that a
 * new frame may follow it. Only the chunk's own bytes are looked at; a blank line split across two
 * chunks counts as not ended, which only means a `retry:` hint is skipped.
 * @internal
 */
export function endsFrame(chunk: Uint8Array): boolean {
  const last = chunk[chunk.length - 1]
  const beforeLast = chunk[chunk.length - 2]
  if (last === carriageReturn) return beforeLast === carriageReturn || beforeLast === lineFeed
  if (last !== lineFeed) return false
  if (beforeLast === lineFeed) return true
  // The chunk ends with CRLF: a blank line if another line end comes right before it.
  return (
    beforeLast === carriageReturn &&
    (chunk[chunk.length - 3] === lineFeed || chunk[chunk.length - 3] === carriageReturn)
  )
}

/**
 * Drives an already-encoded `ReadableStream<Uint8Array>` (from `createEventStream`, or any event
 * stream) into a sink with the same contract as core's event pump: one `read()` per room in the
 * sink, `resume()` after drain, `cancel()` runs the stream's `cancel`.
 * @internal
 */
export function createByteStreamPump(
  stream: ReadableStream<Uint8Array>,
  sink: EventSink,
  onClose: (summary: { reason: CloseReason }) => void,
  signal?: AbortSignal | undefined,
): EventPump {
  const reader = stream.getReader()
  let closed = false
  let reading = false
  let full = false
  // A final event may only be written between frames; an arbitrary byte stream may end a chunk
  // in the middle of one, and a `retry:` line there would become part of that frame.
  let atFrameBoundary = true

  const finish = (reason: CloseReason): void => {
    if (closed) return
    closed = true
    signal?.removeEventListener('abort', onAbort)
    onClose({ reason })
  }

  let cleanup: Promise<void> = Promise.resolve()
  const stop = (reason: CloseReason): Promise<void> => {
    finish(reason)
    cleanup = reader.cancel().catch(() => {
      // The stream already failed; there is nothing left to release.
    })
    return cleanup
  }

  const read = (): void => {
    reading = true
    reader.read().then(
      (result) => {
        reading = false
        if (closed) return
        if (result.done) {
          finish('end')
          sink.close()
          return
        }
        const chunk = result.value
        if (!(chunk instanceof Uint8Array)) {
          finish('error')
          sink.error(
            new TypeError('sendEventStream: the ReadableStream must yield Uint8Array chunks'),
          )
          void reader.cancel()
          return
        }
        if (chunk.length === 0) return read()
        atFrameBoundary = endsFrame(chunk)
        if (sink.write(chunk)) read()
        else full = true
      },
      (error: unknown) => {
        reading = false
        if (closed) return
        finish('error')
        sink.error(error)
      },
    )
  }

  const onAbort = (): void => {
    if (closed) return
    void stop('abort')
    sink.close()
  }

  const pump: EventPump = {
    resume() {
      if (closed || reading || !full) return
      full = false
      read()
    },
    cancel(reason = 'cancel') {
      if (closed) return cleanup
      return stop(reason)
    },
    close(finalEvent) {
      if (closed) return cleanup
      const done = stop('shutdown')
      if (finalEvent !== undefined && atFrameBoundary) sink.write(encodeEvent(finalEvent))
      sink.close()
      return done
    },
    get closed() {
      return closed
    },
  }

  if (signal?.aborted) {
    onAbort()
    return pump
  }
  signal?.addEventListener('abort', onAbort, { once: true })
  read()
  return pump
}
