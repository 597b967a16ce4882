/**
 * Bounds one wait, so a regression fails fast with a label that says what never happened instead of
 * idling until the runner's timeout (the idea of honojs/node-server's disconnect test).
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${label}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Polls `read` until `done` accepts its value; fails with `label` after `ms`. */
export async function waitUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  ms: number,
  label: string,
): Promise<T> {
  const deadline = Date.now() + ms
  let last: T | undefined
  for (;;) {
    last = await read()
    if (done(last)) return last
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${ms} ms: ${label} (last value: ${JSON.stringify(last)})`)
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}
