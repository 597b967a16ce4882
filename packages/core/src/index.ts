/**
 * @module
 * `@ssekit/core`: spec-exact Server-Sent Events for any runtime.
 */
export type { SseErrorCode, SseErrorDetails } from './errors.ts'
export { SseError } from './errors.ts'
export type {
  CloseReason,
  EventSourceContext,
  EventStreamHooks,
  EventStreamSource,
  EventStreamSummary,
  SseEvent,
} from './types.ts'
