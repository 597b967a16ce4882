import type { ViteUserConfig } from 'vitest/config'

/**
 * Settings every package's vitest project shares: workspace packages resolve to their TypeScript
 * sources through the `ssekit-source` export condition, so tests never race a concurrent `dist/` build.
 */
export const sharedTestConfig: ViteUserConfig = {
  resolve: { conditions: ['ssekit-source'] },
  ssr: { resolve: { conditions: ['ssekit-source'], externalConditions: ['ssekit-source'] } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    teardownTimeout: 5_000,
  },
}
