// A quick check of @ssekit/node's adapter, not the project benchmark (that is bench/ at the root).
// Run after a build:  npm run build -w @ssekit/node && node packages/node/bench/node-adapter.mjs
//
// 1. One loopback connection, 200 000 small events, 5 interleaved rounds, medians: a plain
//    node:http writer (template string, res.write, await drain) against sendEventStream with a
//    sync and an async generator source. Client and server share this process, so the CPU figure
//    is for both; compare the rows, not the absolute numbers.
// 2. A reader that stops reading for 2 s: how far the source ran ahead, and what the server holds
//    in user space (response.writableLength), with the default 64 KiB highWaterMark.
import { once } from 'node:events'
import { createServer, request } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { sendEventStream } from '@ssekit/node'

const events = 200_000
const rounds = 5
const data = JSON.stringify({ symbol: 'ACME', price: 101.25 })

const handlers = {
  'plain writer': (_request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/event-stream' })
    void (async () => {
      for (let id = 0; id < events; id++) {
        if (!response.write(`id: ${id}\ndata: ${data}\n\n`)) await once(response, 'drain')
      }
      response.end()
    })()
  },
  'ssekit, sync source': (request, response) => {
    void sendEventStream(request, response, function* () {
      for (let id = 0; id < events; id++) yield { id: String(id), data }
    })
  },
  'ssekit, async source': (request, response) => {
    void sendEventStream(request, response, async function* () {
      for (let id = 0; id < events; id++) yield { id: String(id), data }
    })
  },
}

async function listen(handler) {
  const server = createServer(handler)
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${server.address().port}` }
}

async function oneRun(handler) {
  const { server, url } = await listen(handler)
  const started = process.hrtime.bigint()
  const cpuBefore = process.cpuUsage()
  await new Promise((resolve, reject) => {
    request(url, (response) => {
      response.resume()
      response.on('end', resolve)
    })
      .on('error', reject)
      .end()
  })
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  const cpu = process.cpuUsage(cpuBefore)
  server.close()
  return { perSecond: events / seconds, cpuPerEvent: (cpu.user + cpu.system) / events }
}

const median = (values) => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)]
const results = Object.fromEntries(Object.keys(handlers).map((name) => [name, []]))
for (let round = 0; round < rounds; round++) {
  for (const [name, handler] of Object.entries(handlers)) results[name].push(await oneRun(handler))
}
const baseline = median(results['plain writer'].map((run) => run.perSecond))
console.log(`one connection, ${events} events, median of ${rounds}:`)
for (const [name, runs] of Object.entries(results)) {
  const perSecond = median(runs.map((run) => run.perSecond))
  const cpu = median(runs.map((run) => run.cpuPerEvent))
  console.log(
    `  ${name.padEnd(22)} ${Math.round(perSecond).toLocaleString('en').padStart(10)} events/s` +
      `  ${(perSecond / baseline).toFixed(2)}x  ${cpu.toFixed(2)} µs CPU/event`,
  )
}

// 2. The stalled reader.
let produced = 0
let producedBytes = 0
let serverResponse
const payload = 'x'.repeat(1_000)
const { server, url } = await listen((request, response) => {
  serverResponse = response
  void sendEventStream(request, response, async function* () {
    for (let id = 1; ; id++) {
      produced = id
      producedBytes += `id: ${id}\ndata: ${payload}\n\n`.length
      yield { id: String(id), data: payload }
      if (id % 64 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
  })
})
const clientRequest = request(url, (response) => response.once('data', () => response.pause()))
clientRequest.on('error', () => {})
clientRequest.end()
await sleep(2_000)
console.log(
  `stalled reader after 2 s: source produced ${produced} events (${(producedBytes / 1024).toFixed(0)} KiB, ` +
    `most of it in the kernel's loopback socket buffers); response.writableLength ${serverResponse.writableLength} bytes`,
)
clientRequest.destroy()
server.close()
