/** Vitest global setup: builds `dist/` (see `src/build.ts`) before the smoke test starts. */
export default async function setup(): Promise<void> {
  await import('../src/build.ts')
}
