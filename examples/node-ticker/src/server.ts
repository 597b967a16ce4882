import { closeEventStreams } from '@ssekit/node'
import { createTickerServer } from './app.ts'
import { createTicker } from './ticker.ts'

const { PORT } = process.env
const port = Number(PORT ?? 3000)
if (!(Number.isInteger(port) && port >= 0 && port < 65_536)) {
  console.error(`PORT must be a port number (0 to 65535); got ${JSON.stringify(PORT)}`)
  process.exit(1)
}

const ticker = createTicker()
const server = createTickerServer(ticker)
server.listen(port, '127.0.0.1', () => {
  console.log(`node-ticker: http://127.0.0.1:${port} (events at /events); Ctrl+C to stop`)
})

let shuttingDown = false
async function shutdown(signal: string): Promise<void> {
  if (shuttingDown) return
  shuttingDown = true
  console.log(`node-ticker: ${signal}, closing streams`)
  server.close()
  // Each client is told to come back after 1 to 5 s, spread out, not all at the same instant.
  const { closed, destroyed } = await closeEventStreams({ graceMs: 3_000, retry: 1_000 })
  ticker.stop()
  // The streams' connections are idle keep-alive sockets now; close them so the process can exit.
  server.closeIdleConnections()
  console.log(`node-ticker: ${closed} streams closed, ${destroyed} destroyed; bye`)
}
process.once('SIGINT', (signal) => void shutdown(signal))
process.once('SIGTERM', (signal) => void shutdown(signal))
