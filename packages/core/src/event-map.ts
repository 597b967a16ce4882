import type { EventSourceContext, SseEvent } from './types.ts'

/**
 * The events one endpoint sends, declared once as `{ [event type]: data type }` and shared by the
 * server (`@ssekit/hono` `createTypedSse`) and the client (`@ssekit/fetch-client`), so both sides
 * agree on every event's name and payload at compile time. A `message` entry is the unnamed event.
 * The same type as `@ssekit/fetch-client`'s `EventMap`.
 *
 * @example
 * ```ts
 * import type { EventMap } from '@ssekit/core'
 *
 * // An interface extends EventMap; a type alias (`type ChatEvents = { … }`) needs nothing.
 * export interface ChatEvents extends EventMap {
 *   message: { user: string; text: string }
 *   typing: { user: string }
 * }
 * ```
 * @public
 */
export type EventMap = Record<string, unknown>

/**
 * The event types `Events` declares, without the `string` index signature an interface gets from
 * `extends EventMap` (which would otherwise admit any event name with `unknown` data).
 */
type DeclaredType<Events> = keyof {
  [Type in keyof Events as string extends Type ? never : Type]: Events[Type]
} &
  string

/**
 * One event of `Events` as the server writes it (the client-side counterpart is
 * `@ssekit/fetch-client`'s `TypedEvent`): `event` names its type and `data` has that type's
 * payload. For the `message` type, `event` may be left out (clients dispatch an unnamed event as
 * `message`).
 *
 * @example
 * ```ts
 * import type { TypedSseEvent } from '@ssekit/core'
 *
 * type ChatEvents = { message: { text: string }; typing: { user: string } }
 * const typing: TypedSseEvent<ChatEvents> = { event: 'typing', data: { user: 'ada' } }
 * ```
 * @public
 */
export type TypedSseEvent<Events extends EventMap> = {
  [Type in DeclaredType<Events>]: Omit<SseEvent, 'event' | 'data'> &
    (Type extends 'message'
      ? { event?: 'message' | undefined; data: Events[Type] }
      : { event: Type; data: Events[Type] })
}[DeclaredType<Events>]

/**
 * A source of {@link TypedSseEvent}s: the typed form of `EventStreamSource`. Comment-only events
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
  | AsyncIterable<TypedSseEvent<Events> | { comment: string }>
  | Iterable<TypedSseEvent<Events> | { comment: string }>
  | ((
      context: EventSourceContext,
    ) =>
      | AsyncIterable<TypedSseEvent<Events> | { comment: string }>
      | Iterable<TypedSseEvent<Events> | { comment: string }>)
