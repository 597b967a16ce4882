// Serves dist/worker.js locally with miniflare (workerd): no Cloudflare account, no network.
// PORT picks the port (default 8787); Ctrl+C stops it.
import { Miniflare } from 'miniflare'
import { workerOptions } from './worker-options.mjs'

const miniflare = new Miniflare(workerOptions({ port: Number(process.env['PORT'] ?? 8787) }))
const url = await miniflare.ready
console.log(`Worker ready on ${url.origin}: try  curl -N ${url.origin}/events`)

const stop = async () => {
  await miniflare.dispose()
  process.exit(0)
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
