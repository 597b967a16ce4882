/**
 * A promise with its resolve function outside, for a test to release a source step by step.
 *
 * @example
 * ```ts
 * const gate = deferred()
 * const source = (async function* () {
 *   await gate.promise
 *   yield { data: 'released' }
 * })()
 * gate.resolve()
 * ```
 */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => {}
  const promise = new Promise<T>((settle) => {
    resolve = settle
  })
  return { promise, resolve }
}
