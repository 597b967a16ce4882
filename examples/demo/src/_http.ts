import type { IncomingMessage, ServerResponse } from 'node:http'

/** An error that becomes an HTTP status and a JSON `{ error }` body. */
export class HttpError extends Error {
  readonly status: number
  constructor(status: number, message: string) {
    super(message)
    this.status = status
  }
}

/**
 * Reads a JSON body of at most `limit` bytes. A bigger one is refused with 413 as soon as its
 * `Content-Length` (or the bytes read so far) says so, without buffering the rest.
 */
export async function readJsonBody(request: IncomingMessage, limit: number): Promise<unknown> {
  const type = request.headers['content-type'] ?? ''
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new HttpError(415, 'send the body as application/json')
  }
  const declared = Number(request.headers['content-length'])
  if (declared > limit) throw new HttpError(413, `the body is limited to ${limit} bytes`)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.byteLength
    if (size > limit) throw new HttpError(413, `the body is limited to ${limit} bytes`)
    chunks.push(chunk)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new HttpError(400, 'the body is not valid JSON')
  }
}

/** Answers with JSON; `Connection: close` after an error whose body may not have been read. */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (response.headersSent) {
    response.destroy()
    return
  }
  const text = JSON.stringify(body)
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    ...headers,
  })
  response.end(text)
}
