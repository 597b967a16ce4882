import { createHub } from '@ssekit/core'
const hub = createHub()
const N = 20000
const gc = (globalThis as { gc?: () => void }).gc as () => void
const heap = () => { gc(); gc(); return process.memoryUsage().heapUsed }
let h = heap()
const subs = Array.from({ length: N }, () => hub.subscribe('a'))
console.log('constructed (start pending)', ((heap() - h) / N).toFixed(0))
h = heap()
await Promise.all(subs.map((s) => s.ready))
console.log('+ ready settled', ((heap() - h) / N).toFixed(0))
h = heap()
for (const s of subs) await s.next()
console.log('+ head consumed', ((heap() - h) / N).toFixed(0))
h = heap()
const pending = subs.map((s) => s.next())
console.log('+ next() pending', ((heap() - h) / N).toFixed(0))
void pending
