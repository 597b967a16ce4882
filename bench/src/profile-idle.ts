/**
 * Where an idle connection's memory goes: `node --import tsx --conditions=ssekit-source --expose-gc
 * src/profile-idle.ts <target> [count]` (targets as in `_server.ts`). Opens a few warm-up idle
 * streams, takes a heap snapshot of the server (after GCs), opens `count` more, takes another, and
 * prints the heap growth per connection grouped by constructor or node kind, largest first. This is
 * the profile behind the fan-out table's "heap KB/conn" column.
 */
import { readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startChild } from './_child.ts'
import { startServer } from './_servers.ts'

interface Snapshot {
  snapshot: {
    meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[] }
  }
  nodes: number[]
  edges: number[]
  strings: string[]
}

/**
 * Self size and count per `kind:name` (objects by constructor, the rest by node kind); V8's
 * internal arrays (property and element backing stores, closure contexts) are attributed to the
 * first object or closure found pointing at them, which is what points at the fix.
 */
function aggregate(path: string): Map<string, { size: number; count: number }> {
  const data = JSON.parse(readFileSync(path, 'utf8')) as Snapshot
  const fields = data.snapshot.meta.node_fields
  const types = data.snapshot.meta.node_types[0]
  const width = fields.length
  const typeIndex = fields.indexOf('type')
  const nameIndex = fields.indexOf('name')
  const sizeIndex = fields.indexOf('self_size')
  const edgeCountIndex = fields.indexOf('edge_count')
  const edgeWidth = data.snapshot.meta.edge_fields.length
  const edgeTargetIndex = data.snapshot.meta.edge_fields.indexOf('to_node')
  const label = (offset: number) => {
    const kind = types[data.nodes[offset + typeIndex] as number] ?? '?'
    const name = data.strings[data.nodes[offset + nameIndex] as number] ?? '?'
    return kind === 'string' ? 'string' : `${kind}:${name.slice(0, 40)}`
  }
  // Edges point at node offsets into `nodes`; the first object or closure seen owning a node.
  const owner = new Map<number, string>()
  let edge = 0
  for (let offset = 0; offset < data.nodes.length; offset += width) {
    const edges = data.nodes[offset + edgeCountIndex] as number
    const ownerLabel = label(offset)
    const isOwner =
      (ownerLabel.startsWith('object:') && ownerLabel !== 'object:system / Context') ||
      ownerLabel.startsWith('closure:')
    if (isOwner) {
      for (let index = 0; index < edges; index++) {
        const target = data.edges[edge + index * edgeWidth + edgeTargetIndex] as number
        if (!owner.has(target)) owner.set(target, ownerLabel)
      }
    }
    edge += edges * edgeWidth
  }
  const totals = new Map<string, { size: number; count: number }>()
  for (let offset = 0; offset < data.nodes.length; offset += width) {
    let key = label(offset)
    if (
      key.startsWith('array:') ||
      key === 'object:system / Context' ||
      key.startsWith('hidden:')
    ) {
      key = `${key} of ${owner.get(offset) ?? '?'}`
    }
    const entry = totals.get(key) ?? { size: 0, count: 0 }
    entry.size += data.nodes[offset + sizeIndex] as number
    entry.count++
    totals.set(key, entry)
  }
  return totals
}

const target = process.argv[2] ?? 'ssekit-node'
const count = Number(process.argv[3] ?? 2000)
const started = await startServer(target)
if ('unavailable' in started) throw new Error(started.unavailable)
const { child: server, port } = started.server
const client = startChild('_load-client.ts', ['idle', String(port), String(count + 50), '50'])
const directory = tmpdir()
const before = join(directory, `ssekit-idle-${process.pid}-before.heapsnapshot`)
const after = join(directory, `ssekit-idle-${process.pid}-after.heapsnapshot`)
try {
  await client.next('warm', 60_000, 'warm-up streams')
  server.send({ type: 'heap-snapshot', path: before })
  await server.next('heap-snapshot', 120_000, 'first snapshot')
  client.send({ type: 'continue' })
  await client.next('connected', 120_000, `${count} streams`)
  await new Promise((resolve) => setTimeout(resolve, 500))
  server.send({ type: 'heap-snapshot', path: after })
  await server.next('heap-snapshot', 120_000, 'second snapshot')
  const first = aggregate(before)
  const second = aggregate(after)
  const rows = [...second]
    .map(([key, entry]) => {
      const base = first.get(key) ?? { size: 0, count: 0 }
      return {
        key,
        size: (entry.size - base.size) / count,
        count: (entry.count - base.count) / count,
      }
    })
    .filter((row) => Math.abs(row.size) >= 8)
    .sort((a, b) => b.size - a.size)
  const total = rows.reduce((sum, row) => sum + row.size, 0)
  console.log(
    `${target}: heap growth per idle connection ${total.toFixed(0)} B (${count} connections)`,
  )
  console.log('| what | bytes per connection | objects per connection |')
  console.log('| --- | ---: | ---: |')
  for (const row of rows.slice(0, 30)) {
    console.log(`| ${row.key} | ${row.size.toFixed(0)} | ${row.count.toFixed(2)} |`)
  }
} finally {
  await Promise.all([client.stop(), server.stop()])
  rmSync(before, { force: true })
  rmSync(after, { force: true })
}
