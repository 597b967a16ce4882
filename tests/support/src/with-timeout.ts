/**
 * Bounds one wait, so a regression fails fast with a label saying what never happened instead of
 * idling until the runner's timeout and leaking the listening handle.
 *
 * @example
 * ```ts
 * const response = await withTimeout(fetch(url), 5000, 'server answers')
 * ```
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${label}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/**
 * Polls `read` every 25 ms until `done` accepts its value and returns that value; fails with
 * `label` and the last value read after `ms`.
 *
 * @example
 * ```ts
 * const stats = await waitUntil(readStats, (stats) => stats.open === 0, 5000, 'streams close')
 * ```
 */
export async function waitUntil<T>(
  read: () => T | Promise<T>,
  done: (value: T) => boolean,
  ms: number,
  label: string,
): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await read()
    if (done(value)) return value
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${ms} ms: ${label} (last value: ${JSON.stringify(value)})`)
    }
    await delay(25)
  }
}

/**
 * Polls `check` every 20 ms until it returns true; fails with `label` after `ms`.
 *
 * @example
 * ```ts
 * await waitFor(() => closed.length === 3, 5000, 'all three streams close')
 * ```
 */
export async function waitFor(check: () => boolean, ms: number, label: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${label}`)
    await delay(20)
  }
}

/**
 * Resolves after `ms`; for letting time pass in a test that then asserts what did (not) happen.
 *
 * @example
 * ```ts
 * await delay(100)
 * ```
 */
export const delay = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms))
