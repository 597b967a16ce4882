import { defineConfig } from 'vitest/config'
import { sharedTestConfig } from '../../vitest.shared.ts'

const stress = process.env['SSEKIT_STRESS'] === '1'

export default defineConfig({
  ...sharedTestConfig,
  test: {
    ...sharedTestConfig.test,
    // Load tests measure memory and count connections: one file at a time, so they do not
    // disturb each other on a 2-core machine.
    fileParallelism: false,
    testTimeout: stress ? 900_000 : 60_000,
    hookTimeout: 60_000,
  },
})
