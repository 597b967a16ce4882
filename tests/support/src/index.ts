export { deferred } from './deferred.ts'
export { frameReader } from './frame-reader.ts'
export { freePort } from './free-port.ts'
export { type LoopbackServer, serveOnLoopback } from './loopback-server.ts'
export {
  type ChildMessage,
  type NodeChild,
  type NodeChildOptions,
  startNodeChild,
} from './node-child.ts'
export {
  type RedisServer,
  type RedisServerOptions,
  startRedisServer,
} from './redis-server.ts'
export { delay, waitFor, waitUntil, withTimeout } from './with-timeout.ts'
