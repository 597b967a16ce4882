// A child process for the soak: every connection gets its own tick once a second plus every hub
// broadcast, over node:http. Heap and RSS are sampled once a second and on request after a full GC.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHub, type SseEvent } from '@ssekit/core'
import { sendEventStream } from '@ssekit/node'
import { activeResources, onCommand, say, settledHeap } from './_child.ts'

const hub = createHub({ history: { maxEvents: 64 } })
let open = 0
let opened = 0
let closed = 0
let peakHeap = 0
let peakRss = 0

/** Ticks at a steady 1 Hz per connection, merged with the broadcasts. */
async function* connectionEvents(signal: AbortSignal): AsyncGenerator<SseEvent> {
  const broadcasts = hub.subscribe('broadcast', { signal })
  let pending = broadcasts.next()
  let tick = 0
  let nextTickAt = Date.now() + 1_000
  while (!signal.aborted) {
    let timer: ReturnType<typeof setTimeout> | undefined
    const due = new Promise<'tick'>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, nextTickAt - Date.now()), 'tick')
    })
    const result = await Promise.race([pending, due])
    clearTimeout(timer)
    if (result === 'tick') {
      nextTickAt += 1_000
      yield { event: 'tick', data: String(++tick) }
      continue
    }
    if (result.done) return
    yield result.value
    pending = broadcasts.next()
  }
}

const server = createServer((request, response) => {
  open++
  opened++
  void sendEventStream(request, response, ({ signal }) => connectionEvents(signal), {
    heartbeat: 15_000,
    onClose: () => {
      open--
      closed++
    },
  })
})
server.listen(0, '127.0.0.1', () =>
  say({ type: 'ready', port: (server.address() as AddressInfo).port }),
)

const sampler = setInterval(() => {
  const { heapUsed, rss } = process.memoryUsage()
  peakHeap = Math.max(peakHeap, heapUsed)
  peakRss = Math.max(peakRss, rss)
}, 1_000)

onCommand(async (command) => {
  if (command.type === 'broadcast') {
    await hub.publish('broadcast', { event: 'news', data: String(command['index']) })
    say({ type: 'broadcasted', index: command['index'] })
  } else if (command.type === 'measure') {
    say({
      type: 'measure',
      ...(await settledHeap()),
      peakHeap,
      peakRss,
      open,
      opened,
      closed,
      subscribers: hub.stats().subscribers,
      resources: activeResources(),
    })
  } else if (command.type === 'stop') {
    clearInterval(sampler)
    server.close()
    await hub.close()
    process.exit(0)
  }
})
