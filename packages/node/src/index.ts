/**
 * @module
 * `@ssekit/node`: serve ssekit event streams on node:http and http2, drain-aware and leak-free,
 * with a graceful shutdown for all of them.
 */
export type { CloseEventStreamsOptions, CloseEventStreamsResult } from './close-event-streams.ts'
export { closeEventStreams } from './close-event-streams.ts'
export type { ConnectionLimit, ConnectionLimitOptions } from './connection-limit.ts'
export { createConnectionLimit } from './connection-limit.ts'
export type {
  NodeRequest,
  NodeResponse,
  SendEventStreamOptions,
} from './send-event-stream.ts'
export { sendEventStream, startEventStream } from './send-event-stream.ts'
