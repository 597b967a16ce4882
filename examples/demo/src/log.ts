/** One JSON object per line on stdout, the shape pino and most log shippers use. */
export interface Logger {
  info(fields: Record<string, unknown>): void
  warn(fields: Record<string, unknown>): void
  error(fields: Record<string, unknown>): void
}

/**
 * A logger that writes `{"time":…,"level":…,"instance":…, ...fields}` lines; swap in pino
 * (`pino().child({ instance })`) in a real app, the calls are the same shape.
 *
 * @example
 * ```ts
 * createLogger('demo:3000').info({ msg: 'listening', url: 'http://127.0.0.1:3000' })
 * ```
 */
export function createLogger(instance: string): Logger {
  const write = (level: string, fields: Record<string, unknown>): void => {
    process.stdout.write(`${JSON.stringify({ time: Date.now(), level, instance, ...fields })}\n`)
  }
  return {
    info: (fields) => write('info', fields),
    warn: (fields) => write('warn', fields),
    error: (fields) => write('error', fields),
  }
}
