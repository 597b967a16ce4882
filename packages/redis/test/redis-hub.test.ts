import { createRedisHub } from '@ssekit/redis'
import { type RedisServer, startRedisServer } from '@ssekit/test-support'
import { afterAll, beforeAll } from 'vitest'
import { describeHubConformance } from '../../core/test/_hub-suite.ts'

let server: RedisServer
let prefixCounter = 0

beforeAll(async () => {
  server = await startRedisServer({ streamNodeMaxEntries: 4 })
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
