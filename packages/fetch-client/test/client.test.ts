import { afterAll, beforeAll } from 'vitest'
import { defineClientSuite } from './_client-suite.ts'
import { defineEventSourceSuite } from './_event-source-suite.ts'
import { startScenarioServer } from './_server.ts'

let server: Awaited<ReturnType<typeof startScenarioServer>> | undefined

beforeAll(async () => {
  server = await startScenarioServer()
})

afterAll(async () => {
  await server?.close()
})

const baseUrl = (): string => {
  if (!server) throw new Error('the scenario server did not start')
  return server.url
}

defineClientSuite(baseUrl)
defineEventSourceSuite(baseUrl)
