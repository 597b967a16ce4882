/**
 * @module
 * `@ssekit/fetch-client`: a spec-exact, O(n) Server-Sent Events parser and a resumable fetch
 * client for GET and POST streams, for every runtime with `fetch`.
 */
export { createParser } from './parse.ts'
export type { EventStream, ParseEventStreamOptions } from './parse-stream.ts'
export { EventStreamParserStream, parseEventStream } from './parse-stream.ts'
export type { EventStreamParser, ParserOptions, ServerSentEvent } from './types.ts'
