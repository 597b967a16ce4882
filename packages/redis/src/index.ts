/**
 * @module
 * `@ssekit/redis`: the ssekit broadcast hub on Redis Streams.
 */
export type { RedisHubHistoryOptions, RedisHubOptions } from './redis-hub.ts'
export { createRedisBackend, createRedisHub } from './redis-hub.ts'
