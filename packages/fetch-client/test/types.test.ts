import { type EventMap, fetchEventStream, type ServerSentEvent } from '@ssekit/fetch-client'
import { describe, expectTypeOf, it } from 'vitest'

// Compile-time checks (tsc -p test/tsconfig.json): the loops are type-checked, never run.
describe('types', () => {
  it('narrows data by event type', () => {
    const stream = fetchEventStream<{ token: { text: string }; done: null }>('http://127.0.0.1/', {
      parse: 'json',
    })
    const consume = async () => {
      for await (const event of stream) {
        if (event.type === 'token') expectTypeOf(event.data).toEqualTypeOf<{ text: string }>()
        else {
          expectTypeOf(event.type).toEqualTypeOf<'done'>()
          expectTypeOf(event.data).toEqualTypeOf<null>()
        }
      }
    }
    expectTypeOf(consume).toBeFunction()
    stream.close()
  })

  it('yields plain string events without a type map', () => {
    const stream = fetchEventStream('http://127.0.0.1/')
    const consume = async () => {
      for await (const event of stream) expectTypeOf(event).toEqualTypeOf<ServerSentEvent>()
    }
    expectTypeOf(consume).toBeFunction()
    stream.close()
  })

  it('keeps an interface that extends EventMap to its declared event types', () => {
    interface ChatEvents extends EventMap {
      token: { text: string }
      done: null
    }
    const stream = fetchEventStream<ChatEvents>('http://127.0.0.1/', { parse: 'json' })
    const consume = async () => {
      for await (const event of stream) expectTypeOf(event.type).toEqualTypeOf<'token' | 'done'>()
    }
    expectTypeOf(consume).toBeFunction()
    stream.close()
  })
})
