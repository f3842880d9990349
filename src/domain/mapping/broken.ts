import { GatewayError } from '../../errors.js'
import type { Checked } from '../../upstream/checked.js'

/*
 * The contract fields each upstream field feeds. When Visual Layer broke an upstream field, each
 * contract field it feeds becomes a getter that throws UPSTREAM_CONTRACT, so GraphQL reports the
 * error at that field's own path and resolves its siblings. The detail goes to the log (the error
 * formatter logs UPSTREAM_CONTRACT with its logDetail), never to the client.
 */

export type Dependents<T> = Readonly<Record<string, ReadonlyArray<keyof T & string>>>

export function guardBroken<T extends object> (mapped: T, record: Checked<unknown>, dependents: Dependents<T>, what: string): T {
  for (const [field, issues] of record.broken) {
    for (const target of dependents[field] ?? []) {
      const error = new GatewayError(
        'UPSTREAM_CONTRACT',
        `Visual Layer sent an invalid ${field} for ${what}, so ${target} cannot be shown. This is logged for the operators.`,
        { logDetail: { field, issues } }
      )
      Object.defineProperty(mapped, target, { enumerable: true, configurable: true, get: () => { throw error } })
    }
  }
  return mapped
}
