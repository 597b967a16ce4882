// Redis Stream ids are `<milliseconds>-<sequence>`, two unsigned 64-bit integers. Both parts are
// compared as digit strings (length first), which is exact without BigInt.
const streamId = /^(0|[1-9]\d{0,19})-(0|[1-9]\d{0,19})$/

/** Whether `id` is a well-formed stream id (and so safe to put in an XRANGE bound). */
export function isStreamId(id: string): boolean {
  return streamId.test(id)
}

function compareDigits(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length
  return a < b ? -1 : a > b ? 1 : 0
}

/** Orders two well-formed stream ids. */
export function compareStreamIds(a: string, b: string): number {
  const dashA = a.indexOf('-')
  const dashB = b.indexOf('-')
  return (
    compareDigits(a.slice(0, dashA), b.slice(0, dashB)) ||
    compareDigits(a.slice(dashA + 1), b.slice(dashB + 1))
  )
}

/** The smallest stream id after the well-formed `id`. */
export function nextStreamId(id: string): string {
  const dash = id.indexOf('-')
  return `${id.slice(0, dash)}-${BigInt(id.slice(dash + 1)) + 1n}`
}
