import { defineConfig } from 'vitest/config'
import { sharedTestConfig } from '../../vitest.shared.ts'

/**
 * The Workers project: its own config, because its tests start workerd
 * through miniflare instead of running in Node's process.
 */
export default defineConfig({
  ...sharedTestConfig,
  test: { ...sharedTestConfig.test, name: 'workers', include: ['test/**/*.test.ts'] },
})
