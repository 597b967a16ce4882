// A separate Node process with its own Redis hub, driven by the multi-process test through
// environment variables and talking back through stdout, one JSON line per message.
import { createRedisHub } from '@ssekit/redis'

const { REDIS_URL, TOPIC, TAKE, PUBLISH, LAST_EVENT_ID, PREFIX } = process.env
const url = REDIS_URL as string
const topic = TOPIC as string
const take = Number(TAKE ?? '0')
const publish = Number(PUBLISH ?? '0')
const lastEventId = LAST_EVENT_ID || undefined

const say = (message: unknown) => process.stdout.write(`${JSON.stringify(message)}\n`)

const hub = await createRedisHub({ url, prefix: PREFIX })
const subscription = take > 0 ? hub.subscribe(topic, { lastEventId }) : undefined
await subscription?.ready
say({ type: 'ready', pid: process.pid })

const receiving = (async () => {
  if (subscription === undefined) return
  let count = 0
  for await (const event of subscription) {
    // The id-only block (no data) is reported too: it is what a client would resume from.
    say({ type: 'event', id: event.id, data: event.data ?? null })
    if (event.data !== undefined && ++count === take) break
  }
})()

if (publish > 0) {
  // Wait for the go signal, so every other process is subscribed first.
  await new Promise((resolve) => process.stdin.once('data', resolve))
  for (let index = 1; index <= publish; index++) {
    say({
      type: 'published',
      id: await hub.publish(topic, { data: `from ${process.pid}: ${index}` }),
    })
  }
}
await receiving
await hub.close()
say({ type: 'done' })
process.exit(0)
