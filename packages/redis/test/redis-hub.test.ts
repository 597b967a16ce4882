import { createRedisHub } from '@ssekit/redis'
import { afterAll, beforeAll } from 'vitest'
import { describeHubConformance } from '../../core/test/_hub-suite.ts'
import { type RedisServer, startRedisServer } from './_redis-server.ts'

let server: RedisServer
let prefixCounter = 0

beforeAll(async () => {
  server = await startRedisServer()
})
afterAll(async () => {
  await server?.stop()
})

describeHubConformance('redis', {
  createHub: (options) =>
    createRedisHub({ ...options, url: server.url, prefix: `conformance:${++prefixCounter}:` }),
  // Well-formed, but later than any id this Redis has issued.
  foreignId: '99999999999999-0',
})
