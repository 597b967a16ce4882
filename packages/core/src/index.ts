/**
 * @module
 * `@ssekit/core`: spec-exact Server-Sent Events for any runtime.
 */
export type { EncodedEvent } from './encode.ts'
export { createEncodedEvent, encodeEvent } from './encode.ts'
export type { SseErrorCode, SseErrorDetails } from './errors.ts'
export { SseError } from './errors.ts'
export type { EventMap, TypedEventSource, TypedSseEvent } from './event-map.ts'
export type { EventStreamOptions } from './event-stream.ts'
export { createEventStream } from './event-stream.ts'
export { createHub } from './hub/create-hub.ts'
export type {
  Hub,
  HubAuthorize,
  HubBackend,
  HubGapData,
  HubHistoryOptions,
  HubHooks,
  HubListener,
  HubOptions,
  HubQueueOptions,
  HubQueuePolicy,
  HubReadResult,
  HubResetData,
  HubStats,
  HubSubscribeOptions,
  HubSubscription,
} from './hub/types.ts'
export type { RequestLike } from './last-event-id.ts'
export { lastEventIdFrom } from './last-event-id.ts'
export type { EventStreamResponseInit } from './response.ts'
export { eventStreamHeaders, eventStreamResponse } from './response.ts'
export type {
  CloseReason,
  EventSourceContext,
  EventStreamHooks,
  EventStreamSource,
  EventStreamSummary,
  SseEvent,
} from './types.ts'
