/*
 * Polled values as they cross Redis: JSON, with the Maps of checked records (their broken fields)
 * written as `{ "$map": [[key, value], ...] }`. Upstream records have no field of that name: their
 * values hold the schema's fields only (src/upstream/checked.ts).
 */

export function encodeValue (value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => item instanceof Map ? { $map: [...item] } : item)
}

export function decodeValue (json: string): unknown {
  return JSON.parse(json, (_key, item: unknown) => {
    if (typeof item === 'object' && item !== null && '$map' in item && Array.isArray(item.$map)) return new Map(item.$map as Array<[unknown, unknown]>)
    return item
  })
}
