import type { EventSourceContext, SseEvent } from './types.ts'

/**
 * The events one endpoint sends, declared once as `{ [event type]: data type }` and shared by the
 * server (`@ssekit/hono` `createTypedSse`) and the client (`@ssekit/fetch-client`), so both sides
 * agree on every event's name and payload at compile time. A `message` entry is the unnamed event.
 *
 * @example
 * ```ts
 * import type { EventMap, TypedEvent } from '@ssekit/core'
 *
 * export interface ChatEvents {
 *   message: { user: string; text: string }
 *   typing: { user: string }
 * }
 * const check: EventMap = {} as ChatEvents
 * const typing: TypedEvent<ChatEvents> = { event: 'typing', data: { user: 'ada' } }
 * ```
 * @public
 */
export type EventMap = object

/**
 * One event of `Events`: `event` names its type and `data` has that type's payload. For the
 * `message` type, `event` may be left out (clients dispatch an unnamed event as `message`).
 *
 * @example
 * ```ts
 * import type { TypedEvent } from '@ssekit/core'
 *
 * type ChatEvents = { message: { text: string }; typing: { user: string } }
 * const typing: TypedEvent<ChatEvents> = { event: 'typing', data: { user: 'ada' } }
 * ```
 * @public
 */
export type TypedEvent<Events extends EventMap> = {
  [Type in keyof Events & string]: Omit<SseEvent, 'event' | 'data'> &
    (Type extends 'message'
      ? { event?: 'message' | undefined; data: Events[Type] }
      : { event: Type; data: Events[Type] })
}[keyof Events & string]

/**
 * A source of {@link TypedEvent}s: the typed form of `EventStreamSource`. Comment-only events
 * (`{ comment }`) are allowed too.
 *
 * @example
 * ```ts
 * import type { TypedEventSource } from '@ssekit/core'
 *
 * type ChatEvents = { message: { text: string } }
 * const source: TypedEventSource<ChatEvents> = [{ data: { text: 'hi' } }]
 * ```
 * @public
 */
export type TypedEventSource<Events extends EventMap> =
  | AsyncIterable<TypedEvent<Events> | { comment: string }>
  | Iterable<TypedEvent<Events> | { comment: string }>
  | ((
      context: EventSourceContext,
    ) =>
      | AsyncIterable<TypedEvent<Events> | { comment: string }>
      | Iterable<TypedEvent<Events> | { comment: string }>)
