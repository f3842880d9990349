/**
 * What a number of subscriptions adds to the gateway's heap, by constructor: compares two V8 heap
 * snapshots (written by the scale bench with SCALE_HEAP_SNAPSHOTS) and divides by the subscriptions.
 *
 *   npx tsx bench/scale/heap-diff.ts <before.heapsnapshot> <after.heapsnapshot> <subscriptions> [rows]
 */
import { readFileSync } from 'node:fs'

interface Snapshot {
  snapshot: { meta: { node_fields: string[], node_types: [string[], ...unknown[]] } }
  nodes: number[]
  strings: string[]
}

/** count and self size per "type name" (an object's name is its constructor, a closure's its function). */
function tally (file: string): Map<string, { count: number, bytes: number }> {
  const heap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot
  const fields = heap.snapshot.meta.node_fields
  const types = heap.snapshot.meta.node_types[0]
  const width = fields.length
  const typeAt = fields.indexOf('type')
  const nameAt = fields.indexOf('name')
  const sizeAt = fields.indexOf('self_size')
  const totals = new Map<string, { count: number, bytes: number }>()
  for (let i = 0; i < heap.nodes.length; i += width) {
    const type = types[heap.nodes[i + typeAt] ?? 0] ?? '?'
    let name = heap.strings[heap.nodes[i + nameAt] ?? 0] ?? '?'
    // Strings and numbers by kind, not by value.
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'number') name = ''
    if (name.length > 60) name = `${name.slice(0, 57)}...`
    const key = `${type} ${name}`
    const entry = totals.get(key) ?? { count: 0, bytes: 0 }
    entry.count++
    entry.bytes += heap.nodes[i + sizeAt] ?? 0
    totals.set(key, entry)
  }
  return totals
}

const [beforeFile, afterFile, subscriptionsArg, rowsArg] = process.argv.slice(2)
if (beforeFile === undefined || afterFile === undefined || subscriptionsArg === undefined) {
  process.stderr.write('usage: heap-diff.ts <before> <after> <subscriptions> [rows]\n')
  process.exit(1)
}
const subscriptions = Number(subscriptionsArg)
const before = tally(beforeFile)
const after = tally(afterFile)
const rows = [...after].map(([key, { count, bytes }]) => {
  const was = before.get(key) ?? { count: 0, bytes: 0 }
  return { key, perSubscription: (count - was.count) / subscriptions, bytesPerSubscription: (bytes - was.bytes) / subscriptions }
}).sort((a, b) => b.bytesPerSubscription - a.bytesPerSubscription)
const total = rows.reduce((sum, row) => sum + row.bytesPerSubscription, 0)
console.log(`self size added per subscription: ${Math.round(total)} bytes`)
console.log('bytes/sub  objects/sub  type constructor')
for (const row of rows.slice(0, Number(rowsArg ?? 40))) {
  console.log(`${row.bytesPerSubscription.toFixed(0).padStart(9)}  ${row.perSubscription.toFixed(2).padStart(11)}  ${row.key}`)
}
