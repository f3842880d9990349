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

export function checked<S extends z.ZodRawShape> (shape: S, identity: keyof S & string): z.ZodType<Checked<z.output<z.ZodObject<S>>>> {
  const envelope = z.object({ [identity]: shape[identity] as z.ZodType }).loose()
  // The usual record parses whole, in one pass of zod's compiled object parser; only a record with a
  // broken field is parsed again field by field, to tell which (issue 27: one parse instead of one per field).
  const whole = z.object(shape)
  const fields = Object.keys(shape)
  return envelope.transform((input) => {
    const all = whole.safeParse(input)
    if (all.success) {
      const parsed = all.data as Record<string, unknown>
      const value: Record<string, unknown> = {}
      // Every field of the shape, in its order, present even when absent upstream: as the field-by-field parse gives it.
      for (const field of fields) value[field] = parsed[field]
      return { value: value as z.output<z.ZodObject<S>>, broken: NOTHING_BROKEN }
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
