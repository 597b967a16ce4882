/**
 * @module
 * `@ssekit/fetch-client`: a spec-exact, O(n) Server-Sent Events parser and a resumable fetch
 * client for GET and POST streams, for every runtime with `fetch`.
 */

export type { EventSourceInit } from './event-source.ts'
export { EventSource } from './event-source.ts'
export type {
  EventMap,
  EventStreamClient,
  FetchEventStreamInit,
  FetchFunction,
  ResumeContext,
  RetryContext,
  TypedEvent,
} from './fetch-event-stream.ts'
export { fetchEventStream } from './fetch-event-stream.ts'
export { createParser } from './parse.ts'
export type { EventStream, ParseEventStreamOptions } from './parse-stream.ts'
export { EventStreamParserStream, parseEventStream } from './parse-stream.ts'
export type { EventStreamParser, ParserOptions, ServerSentEvent } from './types.ts'
