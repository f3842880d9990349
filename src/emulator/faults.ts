import { z } from 'zod'
import { globToRegExp } from './glob.js'

/**
 * Injected faults: each applies to the next `times` matching `/api/v1` calls, before
 * authentication, in the order they were injected.
 */
export interface FaultSpec {
  method?: string
  /** Glob: `*` = one path segment's characters, `**` = anything. */
  path: string
  /** Default 1. */
  times?: number
  status?: number
  /** A JSON value, or a string sent verbatim as text/plain (e.g. a proxy's HTML error page). */
  body?: unknown
  delayMs?: number
  /** Destroy the socket without answering. */
  drop?: boolean
  /** Extra response headers with `status`, e.g. `{"retry-after": "2"}`. An emulator extension. */
  headers?: Record<string, string>
  /** Hold the call (once logged) until the hold of this name is released (`emulator.release(name)`), then apply the rest. */
  hold?: string
}

export const faultSpecSchema = z.strictObject({
  method: z.string().regex(/^[A-Za-z]+$/, 'an HTTP method such as GET').optional(),
  path: z.string().startsWith('/', 'a path glob starting with /'),
  times: z.number().int().min(1).max(1_000_000).optional(),
  status: z.number().int().min(100).max(599).optional(),
  body: z.unknown().optional(),
  delayMs: z.number().int().min(0).max(60_000).optional(),
  drop: z.boolean().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  hold: z.string().min(1).max(100).optional()
})
  .refine((spec) => spec.status !== undefined || spec.delayMs !== undefined || spec.drop === true || spec.hold !== undefined, {
    message: 'a fault needs status, delayMs, drop or hold'
  })
  .refine((spec) => (spec.body === undefined && spec.headers === undefined) || spec.status !== undefined, {
    message: 'body and headers need a status'
  })

interface ArmedFault {
  readonly spec: FaultSpec
  readonly method: string | null
  readonly path: RegExp
  remaining: number
}

export interface FaultBox {
  inject(spec: FaultSpec): void
  clear(): void
  /** The first armed fault matching the call, consumed once; undefined when none. */
  take(method: string, path: string): FaultSpec | undefined
}

export function createFaultBox (): FaultBox {
  let armed: ArmedFault[] = []
  return {
    inject (spec) {
      const checked = faultSpecSchema.parse(spec)
      armed.push({
        spec: checked,
        method: checked.method?.toUpperCase() ?? null,
        path: globToRegExp(checked.path),
        remaining: checked.times ?? 1
      })
    },
    clear () {
      armed = []
    },
    take (method, path) {
      const fault = armed.find((candidate) => (candidate.method === null || candidate.method === method) && candidate.path.test(path))
      if (fault === undefined) return undefined
      fault.remaining--
      if (fault.remaining <= 0) armed = armed.filter((candidate) => candidate !== fault)
      return fault.spec
    }
  }
}
