/**
 * @module
 * `@ssekit/core/adapter`: the engine behind `createEventStream`, for adapter authors who write to a
 * sink with its own backpressure signal (a node:http response, a socket) and would rather not pay
 * for a `ReadableStream` per connection. Application code wants `createEventStream` instead.
 */
export { heartbeatStats } from './_heartbeat.ts'
export type { EventPump, EventPumpOptions, EventSink } from './_pump.ts'
export { createEventPump, releaseEventStreamSource } from './_pump.ts'
