/* How the pollers compare what they polled (registry.ts), and what the watchers of their values share. */

/** Checked records compare by their parsed values and which fields were broken. */
export function sameRecords (a: unknown, b: unknown): boolean {
  return JSON.stringify(a, replacer) === JSON.stringify(b, replacer)
}

function replacer (_key: string, value: unknown): unknown {
  return value instanceof Map ? [...value.keys()].sort() : value
}
