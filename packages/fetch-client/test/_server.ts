import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A real node:http server on 127.0.0.1 with one route per client scenario. Each test passes its
 * own `key` query parameter, so state (request counts, what each request carried) is per test;
 * `GET /_log?key=...` returns that state as JSON, so the client suite needs nothing but a base URL
 * and `fetch` and can run in other runtimes against this server.
 */
export interface RequestRecord {
  method: string
  path: string
  lastEventId: string | null
  accept: string | null
  authorization: string | null
  body: string
}

export interface ScenarioLog {
  requests: RequestRecord[]
  /** Connections that the client closed before the server ended them. */
  clientClosed: number
  /** Bytes the server managed to write on the backpressure route. */
  written: number
  /** Whether the backpressure route saw `write()` return false. */
  sawBackpressure: boolean
}

const SSE = { 'content-type': 'text/event-stream', 'cache-control': 'no-store' }

export async function startScenarioServer(): Promise<{ url: string; close(): Promise<void> }> {
  const logs = new Map<string, ScenarioLog>()
  const logFor = (key: string): ScenarioLog => {
    let log = logs.get(key)
    if (!log) {
      log = { requests: [], clientClosed: 0, written: 0, sawBackpressure: false }
      logs.set(key, log)
    }
    return log
  }
  const timers = new Set<ReturnType<typeof setTimeout>>()
  const later = (milliseconds: number, run: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer)
      run()
    }, milliseconds)
    timers.add(timer)
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1')
    const key = url.searchParams.get('key') ?? 'default'
    if (url.pathname === '/_log') {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(JSON.stringify(logFor(key)))
      return
    }
    let body = ''
    for await (const part of request) body += part
    const log = logFor(key)
    const count = log.requests.push({
      method: request.method ?? '',
      path: url.pathname,
      lastEventId: request.headers['last-event-id']?.toString() ?? null,
      accept: request.headers.accept ?? null,
      authorization: request.headers.authorization ?? null,
      body,
    })
    let ended = false
    response.on('finish', () => {
      ended = true
    })
    response.on('close', () => {
      if (!ended) log.clientClosed++
    })
    const drop = (): void => {
      // A network failure mid-stream: the socket goes away without the chunked terminator.
      response.socket?.destroy()
    }

    switch (url.pathname) {
      case '/resume-chain': {
        // 1st: ids 1, 2 and half an event, then the connection drops. 2nd (Last-Event-ID 2): id 3,
        // then a normal end. 3rd: 204, the server's "stop".
        if (count === 1) {
          response.writeHead(200, SSE)
          response.write('retry: 5\nid: 1\ndata: one\n\nid: 2\ndata: two\n\ndata: half')
          later(30, drop)
        } else if (count === 2) {
          response.writeHead(200, SSE)
          response.end(`id: 3\ndata: three after ${request.headers['last-event-id']}\n\n`)
        } else {
          response.writeHead(204).end()
        }
        return
      }
      case '/flap': {
        // Three connections that each deliver one event and drop; only the first carries an id.
        // Then 204.
        if (count <= 3) {
          response.writeHead(200, SSE)
          response.write(`${count === 1 ? 'id: 5\n' : ''}data: ${count}\n\n`)
          later(20, drop)
        } else {
          response.writeHead(204).end()
        }
        return
      }
      case '/status': {
        const status = Number(url.searchParams.get('status') ?? 500)
        const times = Number(url.searchParams.get('times') ?? Number.POSITIVE_INFINITY)
        if (count <= times) {
          const headers: Record<string, string> = {
            'content-type': url.searchParams.get('type') ?? 'text/html; charset=utf-8',
          }
          const retryAfter = url.searchParams.get('retryAfter')
          if (retryAfter !== null) headers['retry-after'] = retryAfter
          response.writeHead(status, headers)
          response.end(
            `<html><body>${'error page '.repeat(300)}</body></html>\ndata: not an event\n\n`,
          )
        } else if (count === times + 1) {
          response.writeHead(200, SSE)
          response.end('data: recovered\n\n')
        } else {
          response.writeHead(204).end()
        }
        return
      }
      case '/content-type': {
        response.writeHead(200, { 'content-type': url.searchParams.get('type') ?? 'text/html' })
        response.end('data: parsed?\n\n')
        return
      }
      case '/once': {
        // One event then a normal end; any reconnect gets 204.
        if (count === 1) {
          response.writeHead(200, SSE)
          response.end(`id: ${url.searchParams.get('id') ?? 'a'}\ndata: ${body || 'once'}\n\n`)
        } else {
          response.writeHead(204).end()
        }
        return
      }
      case '/post-drop': {
        // Answers a POST with the first tokens, then the connection drops.
        response.writeHead(200, SSE)
        response.write('id: 1\ndata: token 1\n\nid: 2\ndata: token 2\n\n')
        later(30, drop)
        return
      }
      case '/post-resume': {
        response.writeHead(200, SSE)
        response.end(`id: 3\ndata: token 3 after ${request.headers['last-event-id']}\n\n`)
        return
      }
      case '/stall': {
        // 1st: one event, then silence with the connection open. Later: 204.
        if (count === 1) {
          response.writeHead(200, SSE)
          response.write('data: before the stall\n\n')
        } else {
          response.writeHead(204).end()
        }
        return
      }
      case '/stall-headers': {
        // Never answers the first request; later ones get one event and 204.
        if (count === 1) return
        if (count === 2) {
          response.writeHead(200, SSE)
          response.end('data: second try\n\n')
        } else {
          response.writeHead(204).end()
        }
        return
      }
      case '/heartbeat': {
        // 20 comments 50 ms apart (1 s in all), then one event.
        response.writeHead(200, SSE)
        let beats = 0
        const beat = (): void => {
          if (response.destroyed) return
          if (beats++ < 20) {
            response.write(': keep-alive\n')
            later(50, beat)
          } else response.end('data: after heartbeats\n\n')
        }
        beat()
        return
      }
      case '/endless': {
        // Events until the client goes away.
        response.writeHead(200, SSE)
        let index = 0
        const tick = (): void => {
          if (response.destroyed) return
          response.write(`data: ${index++}\n\n`)
          later(5, tick)
        }
        tick()
        return
      }
      case '/backpressure': {
        // Writes 64 KiB events as fast as the socket takes them, for at most 64 MiB.
        response.writeHead(200, SSE)
        const event = `data: ${'x'.repeat(65_536)}\n\n`
        const write = (): void => {
          while (!response.destroyed && log.written < 64 * 1024 * 1024) {
            log.written += event.length
            if (!response.write(event)) {
              log.sawBackpressure = true
              response.once('drain', write)
              return
            }
          }
          response.end()
        }
        write()
        return
      }
      case '/long-line': {
        response.writeHead(200, SSE)
        response.write(`data: ${'y'.repeat(4096)}`)
        return
      }
      case '/json': {
        if (count > 1) {
          response.writeHead(204).end()
          return
        }
        response.writeHead(200, { 'content-type': 'Text/Event-Stream; charset=windows-1252' })
        response.end(
          'event: token\ndata: {"text":"Hel"}\n\nevent: token\ndata: {"text":"lo…"}\n\nevent: done\ndata: null\n\n',
        )
        return
      }
      case '/slow-headers': {
        later(Number(url.searchParams.get('ms') ?? 2000), () => {
          if (response.destroyed) return
          response.writeHead(200, SSE)
          response.end('data: late\n\n')
        })
        return
      }
      default:
        response.writeHead(404, { 'content-type': 'text/plain' }).end('no such route')
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error) => {
      response.destroy(error)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      for (const timer of timers) clearTimeout(timer)
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
