/**
 * @module
 * `@ssekit/hono`: Server-Sent Events for Hono, the same code on Node (`@hono/node-server`),
 * Cloudflare Workers, Bun and Deno.
 */
export type { SseOptions } from './sse.ts'
export { sse } from './sse.ts'
export { createTypedSse } from './typed-sse.ts'
