import { defineConfig } from 'vitest/config'
import { sharedTestConfig } from '../vitest.shared.ts'

// The smoke test's server and client processes run the built JavaScript (`dist/`, built once in
// global setup), which starts several times faster than TypeScript through tsx.
export default defineConfig({
  ...sharedTestConfig,
  test: {
    ...sharedTestConfig.test,
    globalSetup: ['test/_build.ts'],
    env: { SSEKIT_BENCH_BUILT_CHILDREN: '1' },
  },
})
