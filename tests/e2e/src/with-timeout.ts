/** Bounds one wait, so a regression fails fast with a label saying what never happened. */
export function withTimeout<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${label}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Polls `read` until `done` accepts its value; fails with `label` (and the last value) after `ms`. */
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
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
