import type { ValidationItem } from './api-error.js'
import { validationFailed } from './api-error.js'
import { parseUuid } from './ids.js'
import { parseQueryDatetime } from './time-format.js'

/*
 * Reads path and query parameters the way FastAPI validates them, collecting every problem as a
 * pydantic v2 error item (same `type`, `loc`, `msg`, `input`, `ctx`) so that one 422 lists them all.
 */

export type RawQuery = Record<string, string | string[] | undefined>

const TRUE_WORDS = new Set(['1', 'on', 't', 'true', 'y', 'yes'])
const FALSE_WORDS = new Set(['0', 'off', 'f', 'false', 'n', 'no'])

/** pydantic's "'a', 'b' or 'c'". */
function expectedList (values: readonly string[]): string {
  const quoted = values.map((value) => `'${value}'`)
  return quoted.length <= 1 ? quoted.join('') : `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`
}

function uuidItem (location: 'path' | 'query', name: string, input: string): ValidationItem | null {
  const parsed = parseUuid(input)
  if (parsed.ok) return null
  return { type: 'uuid_parsing', loc: [location, name], msg: `Input should be a valid UUID, ${parsed.error}`, input, ctx: { error: parsed.error } }
}

export class RequestValidator {
  readonly errors: ValidationItem[] = []
  private readonly query: RawQuery

  constructor (query: RawQuery = {}) {
    this.query = query
  }

  /** A path UUID in canonical form ('' when invalid; the error is recorded). */
  pathUuid (name: string, input: string): string {
    const parsed = parseUuid(input)
    if (parsed.ok) return parsed.uuid
    this.errors.push(uuidItem('path', name, input) as ValidationItem)
    return ''
  }

  /** A repeated scalar query parameter counts by its last value, as in FastAPI. */
  string (name: string): string | undefined {
    const value = this.query[name]
    return Array.isArray(value) ? value[value.length - 1] : value
  }

  uuid (name: string): string | undefined {
    const input = this.string(name)
    if (input === undefined) return undefined
    const parsed = parseUuid(input)
    if (parsed.ok) return parsed.uuid
    this.errors.push(uuidItem('query', name, input) as ValidationItem)
    return undefined
  }

  enumValue<T extends string>(name: string, values: readonly T[]): T | undefined
  enumValue<T extends string>(name: string, values: readonly T[], fallback: T): T
  enumValue<T extends string>(name: string, values: readonly T[], fallback?: T): T | undefined {
    const input = this.string(name)
    if (input === undefined) return fallback
    if ((values as readonly string[]).includes(input)) return input as T
    const expected = expectedList(values)
    this.errors.push({ type: 'enum', loc: ['query', name], msg: `Input should be ${expected}`, input, ctx: { expected } })
    return fallback
  }

  int (name: string, fallback: number, bounds: { ge?: number; le?: number }): number {
    const input = this.string(name)
    if (input === undefined) return fallback
    if (!/^\s*[+-]?\d+\s*$/.test(input)) {
      this.errors.push({ type: 'int_parsing', loc: ['query', name], msg: 'Input should be a valid integer, unable to parse string as an integer', input })
      return fallback
    }
    const value = Number.parseInt(input, 10)
    if (bounds.ge !== undefined && value < bounds.ge) {
      this.errors.push({
        type: 'greater_than_equal',
        loc: ['query', name],
        msg: `Input should be greater than or equal to ${bounds.ge}`,
        input,
        ctx: { ge: bounds.ge }
      })
      return fallback
    }
    if (bounds.le !== undefined && value > bounds.le) {
      this.errors.push({
        type: 'less_than_equal',
        loc: ['query', name],
        msg: `Input should be less than or equal to ${bounds.le}`,
        input,
        ctx: { le: bounds.le }
      })
      return fallback
    }
    return value
  }

  bool (name: string, fallback: boolean): boolean {
    const input = this.string(name)
    if (input === undefined) return fallback
    const word = input.toLowerCase()
    if (TRUE_WORDS.has(word)) return true
    if (FALSE_WORDS.has(word)) return false
    this.errors.push({ type: 'bool_parsing', loc: ['query', name], msg: 'Input should be a valid boolean, unable to interpret input', input })
    return fallback
  }

  /** A datetime as epoch ms. */
  datetime (name: string): number | undefined {
    const input = this.string(name)
    if (input === undefined) return undefined
    const parsed = parseQueryDatetime(input)
    if (parsed.ok) return parsed.ms
    this.errors.push({
      type: 'datetime_from_date_parsing',
      loc: ['query', name],
      msg: `Input should be a valid datetime or date, ${parsed.error}`,
      input,
      ctx: { error: parsed.error }
    })
    return undefined
  }

  /** Throws the 422 when anything was invalid. */
  check (): void {
    if (this.errors.length > 0) throw validationFailed(this.errors)
  }
}
