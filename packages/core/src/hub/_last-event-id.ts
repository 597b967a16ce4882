// Longer ids are refused outright: no backend issues them, and a client-controlled string should
// never reach a store query unbounded.
const maxLength = 1024
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const controlCharacter = /[\u0000-\u001f\u007f]/

/** Whether a client's `Last-Event-ID` is even worth looking up; anything else is "unknown". */
export function isResumableId(id: string): boolean {
  return id.length > 0 && id.length <= maxLength && !controlCharacter.test(id)
}
