import { LRUCache } from 'lru-cache'
import { z } from 'zod'

/*
 * A record checked field by field. Visual Layer may break its documented contract in one field of
 * one record (a string where a count belongs); the gateway then fails only the GraphQL fields that
 * depend on it, at their own paths, and still answers the rest. Only a record that is not an
 * object, or whose identifying field is broken, fails as a whole.
 */

export interface Checked<T> {
  /** The parsed record; a broken field holds undefined whatever its type says: see `broken`. */
  readonly value: T
  /** Upstream field name to the zod issues that broke it. */
  readonly broken: ReadonlyMap<string, readonly z.core.$ZodIssue[]>
}

/** The `broken` of every record that parsed whole: nothing broke (read only, shared). */
const NOTHING_BROKEN: ReadonlyMap<string, readonly z.core.$ZodIssue[]> = new Map()

/**
 * Bytes the records remembered by one record schema take at most (see RememberedRecords): a task is
 * counted about 2.8 KB (it holds about 1.4 KB with what its mapping keeps:
 * test/upstream/remembered-records-heap.test.ts), so about 3,000 tasks.
 */
export const REMEMBERED_RECORD_BYTES = 8 * 1024 * 1024

export function checked<S extends z.ZodRawShape> (
  shape: S,
  identity: keyof S & string,
  rememberBytes = REMEMBERED_RECORD_BYTES
): z.ZodType<Checked<z.output<z.ZodObject<S>>>> {
  const envelope = z.object({ [identity]: shape[identity] as z.ZodType }).loose()
  // The usual record parses whole, in one pass of zod's compiled object parser; only a record with a
  // broken field is parsed again field by field, to tell which (issue 27: one parse instead of one per field).
  const whole = z.object(shape)
  const fields = Object.keys(shape)
  const remembered = new RememberedRecords<Checked<z.output<z.ZodObject<S>>>>(fields, rememberBytes)
  return envelope.transform((input) => {
    const id = input[identity] as string
    const known = remembered.get(id, input)
    if (known !== undefined) return known
    const all = whole.safeParse(input)
    if (all.success) {
      const parsed = all.data as Record<string, unknown>
      const value: Record<string, unknown> = {}
      // Every field of the shape, in its order, present even when absent upstream: as the field-by-field parse gives it.
      for (const field of fields) value[field] = parsed[field]
      const record = { value: value as z.output<z.ZodObject<S>>, broken: NOTHING_BROKEN }
      remembered.set(id, input, record)
      return record
    }
    const value: Record<string, unknown> = {}
    const broken = new Map<string, readonly z.core.$ZodIssue[]>()
    for (const [field, schema] of Object.entries(shape)) {
      const result = (schema as z.ZodType).safeParse(input[field])
      if (result.success) value[field] = result.data
      else broken.set(field, result.error.issues.map((issue) => ({ ...issue, path: [field, ...issue.path] })))
    }
    return { value: value as z.output<z.ZodObject<S>>, broken }
  })
}

/** A field's value as Visual Layer sent it, when it is one that compares by value. */
type Plain = string | number | boolean | null | undefined

/**
 * The last record of each identity that parsed whole, with the values it was parsed from: a record
 * sent again with the same values (the same task in pages of another size, the same dataset to another
 * caller) is the same checked record, not parsed again, and its mapping is shared (src/domain/mapping/once.ts).
 * The check is a pure function of the shape's fields, so a record is reused only when every one of them
 * holds the very same text, number, boolean or null (a list or an object is not compared: such a
 * record is parsed each time). Least recently used first, bounded in bytes.
 */
export class RememberedRecords<C> {
  private readonly entries: LRUCache<string, { values: Plain[], record: C }>

  constructor (private readonly fields: readonly string[], maxBytes: number) {
    this.entries = new LRUCache({ maxSize: maxBytes, sizeCalculation: (entry, key) => recordBytes(key, entry.values) })
  }

  get (id: string, input: Record<string, unknown>): C | undefined {
    const entry = this.entries.get(id)
    if (entry === undefined) return undefined
    const { fields } = this
    for (let i = 0; i < fields.length; i++) {
      if (!Object.is(entry.values[i], input[fields[i]!])) return undefined
    }
    return entry.record
  }

  set (id: string, input: Record<string, unknown>, record: C): void {
    const values: Plain[] = []
    for (const field of this.fields) {
      const value = input[field]
      if (value !== null && typeof value === 'object') return
      values.push(value as Plain)
    }
    this.entries.set(id, { values, record })
  }

  /** Bytes the remembered records take, about: at most the bound. */
  get bytes (): number {
    return this.entries.calculatedSize
  }

  get size (): number {
    return this.entries.size
  }
}

/**
 * An entry's bytes, about: its texts twice (as sent, and as the checked record and its mapping keep
 * them, 2 bytes a character), and 48 bytes a field for each of the three objects holding them.
 */
function recordBytes (id: string, values: readonly Plain[]): number {
  let chars = id.length
  for (const value of values) if (typeof value === 'string') chars += value.length
  return 2 * 2 * chars + values.length * 3 * 48 + 256
}
