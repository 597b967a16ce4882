import type { EventMap, EventStreamSource, TypedEventSource } from '@ssekit/core'
import type { Context } from 'hono'
import { type SseOptions, sse } from './sse.ts'

/**
 * {@link sse} narrowed to one endpoint's events: the source may only yield the event types of
 * `Events`, each with its declared `data`. Declare `Events` once and share the type with
 * `@ssekit/fetch-client`, so a renamed event or a changed payload fails to compile on both sides.
 *
 * @typeParam Events - `{ [event type]: data type }`; a `message` entry is the unnamed event.
 * @returns a function with the signature of `sse(c, source, options?)`
 *
 * @example
 * ```ts
 * import type { EventMap } from '@ssekit/core'
 * import { Hono } from 'hono'
 * import { createTypedSse } from '@ssekit/hono'
 *
 * // shared.ts, imported by the server and the client
 * export interface ChatEvents extends EventMap {
 *   message: { user: string; text: string }
 *   typing: { user: string }
 * }
 *
 * const chatEvents = createTypedSse<ChatEvents>()
 * const app = new Hono()
 * app.get('/chat', (c) =>
 *   chatEvents(c, async function* () {
 *     yield { event: 'typing', data: { user: 'ada' } }
 *     yield { data: { user: 'ada', text: 'hello' } } // a `message`
 *     // yield { event: 'typo', data: {} }          // does not compile
 *   }),
 * )
 * ```
 * @public
 */
export function createTypedSse<Events extends EventMap>(): (
  c: Context,
  source: TypedEventSource<Events>,
  options?: SseOptions,
) => Response {
  return (c, source, options) => sse(c, source as EventStreamSource, options)
}
