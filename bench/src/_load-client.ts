/**
 * The light load client, in its own process: raw `net` sockets, no HTTP library, so the client
 * costs as little CPU as possible and the same for every server. `_load-client.ts <mode> <port> ...`:
 * - `stream <port> <warmup> <n>`: one warm-up request, then one request for n events, read as fast
 *   as the socket delivers; counts events (`data:` lines in the de-chunked body) and bytes;
 * - `idle <port> <count> <warm>`: opens `warm` idle streams, waits for `continue`, opens the rest up
 *   to `count` (at most 256 connecting at once), then waits
 *   for broadcasts announced over IPC and reports per-connection receipt latency;
 * - `slow <port> <seconds> <bytesPerSecond>`: one stream read at a fixed slow rate.
 * Every wait is bounded; results go to the parent over IPC.
 */
import { connect, type Socket } from 'node:net'
import { exitWithParent, tell } from './_child.ts'
import { percentile } from './_stats.ts'

const now = () => performance.timeOrigin + performance.now()

/** Decodes `Transfer-Encoding: chunked` (or passes a close-delimited body through). */
class BodyReader {
  private head = Buffer.alloc(0)
  private headDone = false
  private chunked = false
  private size = -1
  private sizeLine = ''
  private skip = 0
  ended = false
  private readonly onBody: (bytes: Buffer) => void

  constructor(onBody: (bytes: Buffer) => void) {
    this.onBody = onBody
  }

  /** Feeds raw socket bytes; returns true once the header block has been seen. */
  push(bytes: Buffer): boolean {
    if (!this.headDone) {
      this.head = Buffer.concat([this.head, bytes])
      const end = this.head.indexOf('\r\n\r\n')
      if (end < 0) return false
      const headText = this.head.subarray(0, end).toString('latin1')
      if (!/^HTTP\/1\.[01] 200/.test(headText)) {
        throw new Error(`bad response: ${headText.replaceAll('\r\n', ' | ').slice(0, 300)}`)
      }
      this.chunked = /\r\ntransfer-encoding:\s*chunked/i.test(headText)
      this.headDone = true
      const rest = this.head.subarray(end + 4)
      this.head = Buffer.alloc(0)
      if (rest.length > 0) this.body(rest)
      return true
    }
    this.body(bytes)
    return true
  }

  private body(bytes: Buffer) {
    if (!this.chunked) {
      this.onBody(bytes)
      return
    }
    let offset = 0
    while (offset < bytes.length && !this.ended) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, bytes.length - offset)
        this.skip -= take
        offset += take
      } else if (this.size > 0) {
        const take = Math.min(this.size, bytes.length - offset)
        this.onBody(bytes.subarray(offset, offset + take))
        this.size -= take
        offset += take
        if (this.size === 0) {
          this.size = -1
          this.skip = 2
        }
      } else {
        const lineEnd = bytes.indexOf(10, offset)
        if (lineEnd < 0) {
          this.sizeLine += bytes.subarray(offset).toString('latin1')
          return
        }
        this.sizeLine += bytes.subarray(offset, lineEnd).toString('latin1')
        offset = lineEnd + 1
        const size = Number.parseInt(this.sizeLine.trim(), 16)
        this.sizeLine = ''
        if (size === 0) this.ended = true
        else this.size = size
      }
    }
  }
}

const dataMarker = Buffer.from('data:')

/** Counts `data:` occurrences across chunk boundaries (every bench event has one data line). */
function createCounter() {
  let tail = Buffer.alloc(0)
  const counter = {
    events: 0,
    bytes: 0,
    push(bytes: Buffer) {
      counter.bytes += bytes.length
      const view = tail.length > 0 ? Buffer.concat([tail, bytes]) : bytes
      let index = view.indexOf(dataMarker)
      while (index >= 0) {
        counter.events++
        index = view.indexOf(dataMarker, index + dataMarker.length)
      }
      tail = Buffer.from(view.subarray(Math.max(0, view.length - (dataMarker.length - 1))))
    },
  }
  return counter
}

function request(port: number, path: string): Socket {
  const socket = connect({ port, host: '127.0.0.1', noDelay: true })
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n\r\n`,
  )
  return socket
}

function streamOnce(port: number, count: number, timeoutMs: number) {
  return new Promise<{ events: number; bytes: number; ms: number }>((resolve, reject) => {
    const started = performance.now()
    const counter = createCounter()
    const reader = new BodyReader((bytes) => counter.push(bytes))
    const socket = request(port, `/stream?n=${count}`)
    const timer = setTimeout(() => {
      socket.destroy()
      reject(
        new Error(
          `stream of ${count} events not done after ${timeoutMs} ms (${counter.events} seen)`,
        ),
      )
    }, timeoutMs)
    const finish = () => {
      clearTimeout(timer)
      socket.destroy()
      resolve({ events: counter.events, bytes: counter.bytes, ms: performance.now() - started })
    }
    socket.on('data', (bytes) => {
      try {
        reader.push(bytes)
      } catch (error) {
        clearTimeout(timer)
        socket.destroy()
        reject(error)
        return
      }
      if (reader.ended) finish()
    })
    socket.on('end', finish)
    socket.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
  })
}

async function streamMode(port: number, warmup: number, count: number) {
  await streamOnce(port, warmup, 60_000)
  const result = await streamOnce(port, count, 120_000)
  tell({ type: 'stream-result', ...result })
}

async function idleMode(port: number, count: number, warm: number) {
  const sockets: Socket[] = []
  const pending = new Map<number, { expected: number; latencies: number[]; done: () => void }>()
  const broadcastPattern = /^data: ?b(\d+):([\d.]+)/
  let failed = 0
  let connected = 0
  const started = performance.now()
  const open = () =>
    new Promise<void>((resolve) => {
      const socket = request(port, '/idle')
      let ready = false
      // Until the header block is complete the reader parses; after that, raw bytes are scanned
      // for the broadcast stamp directly (chunk-size lines never contain `data:`), which keeps the
      // client's own cost per receipt small next to the server's.
      const reader = new BodyReader(() => {})
      const onBytes = (bytes: Buffer) => {
        const receivedAt = now()
        let index = bytes.indexOf(dataMarker)
        while (index >= 0) {
          const text = bytes.toString('latin1', index, Math.min(bytes.length, index + 48))
          const match = broadcastPattern.exec(text)
          if (match) {
            const entry = pending.get(Number(match[1]))
            if (entry) {
              entry.latencies.push(receivedAt - Number(match[2]))
              if (entry.latencies.length >= entry.expected) entry.done()
            }
          }
          index = bytes.indexOf(dataMarker, index + dataMarker.length)
        }
      }
      socket.on('data', (bytes) => {
        if (ready) {
          onBytes(bytes)
          return
        }
        try {
          if (reader.push(bytes)) {
            ready = true
            connected++
            resolve()
          }
        } catch {
          socket.destroy()
        }
      })
      socket.on('error', () => {
        if (!ready) {
          failed++
          resolve()
        }
      })
      socket.on('close', () => {
        if (!ready) {
          ready = true
          failed++
          resolve()
        }
      })
      sockets.push(socket)
    })
  const openMany = async (total: number) => {
    let opened = 0
    await Promise.all(
      Array.from({ length: Math.min(256, total) }, async () => {
        while (opened < total) {
          opened++
          await open()
        }
      }),
    )
  }
  // Phase one: a few connections so every server has run its code paths once; the parent reads
  // the server's baseline memory now, then lets phase two open the rest.
  await openMany(warm)
  tell({ type: 'warm', connected, failed })
  await new Promise<void>((resolve) => {
    const onMessage = (message: { type: string }) => {
      if (message.type !== 'continue') return
      process.off('message', onMessage)
      resolve()
    }
    process.on('message', onMessage)
  })
  await openMany(count - warm)
  tell({ type: 'connected', connected, failed, ms: performance.now() - started })
  process.on('message', (message: { type: string; seq?: number }) => {
    if (message.type === 'expect' && message.seq !== undefined) {
      const seq = message.seq
      const latencies: number[] = []
      let finished = false
      const report = () => {
        if (finished) return
        finished = true
        clearTimeout(timer)
        pending.delete(seq)
        tell({
          type: 'received',
          seq,
          received: latencies.length,
          p50: percentile(latencies, 50),
          p99: percentile(latencies, 99),
          max: latencies.length > 0 ? Math.max(...latencies) : Number.NaN,
        })
      }
      const timer = setTimeout(report, 15_000)
      pending.set(seq, { expected: connected, latencies, done: report })
      tell({ type: 'expecting', seq })
    } else if (message.type === 'close') {
      for (const socket of sockets) socket.destroy()
      tell({ type: 'closed' })
    }
  })
}

async function slowMode(port: number, seconds: number, bytesPerSecond: number) {
  const socket = request(port, `/slow?seconds=${seconds}&rate=50000000`)
  let bytes = 0
  const reader = new BodyReader(() => {})
  socket.on('data', (chunk) => {
    reader.push(chunk)
    bytes += chunk.length
    // Reading at a fixed rate: pause for as long as this chunk "costs" at bytesPerSecond.
    socket.pause()
    setTimeout(() => socket.resume(), (chunk.length / bytesPerSecond) * 1000)
  })
  socket.on('error', () => {})
  setTimeout(
    () => {
      tell({ type: 'slow-result', bytes })
      socket.destroy()
    },
    seconds * 1000 + 300,
  )
}

exitWithParent()
const [mode, portText, ...rest] = process.argv.slice(2)
const port = Number(portText)
const numbers = rest.map(Number)
if (mode === 'stream') await streamMode(port, numbers[0] ?? 1000, numbers[1] ?? 10_000)
else if (mode === 'idle') await idleMode(port, numbers[0] ?? 100, numbers[1] ?? 10)
else if (mode === 'slow') await slowMode(port, numbers[0] ?? 1, numbers[1] ?? 16_384)
else throw new TypeError(`unknown mode ${mode}: use stream, idle or slow`)
