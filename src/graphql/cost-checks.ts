import {
  getOperationAST, getVariableValues, Kind, visit, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode
} from 'graphql'
import { LRUCache } from 'lru-cache'
import { checkOperation, FIELD_COSTS, NESTED_ARGUMENT_CHECKS, type Args, type OperationCheck } from './cost.js'

/*
 * The cost checks already made (src/graphql/cost.ts), remembered across documents and doors, bounded
 * in bytes, and keyed by the variables a check depends on only (issue 27: a dataset(id: $id) asked with
 * a new id each time is walked once).
 */

/** Bytes a remembered check takes besides its key: the entry, the finding and the LRU's links, about. */
const ENTRY_OVERHEAD_BYTES = 200

export interface CostChecksOptions {
  /** Bytes all remembered checks may take, keys (UTF-16) and entries, across every document and door. */
  readonly maxBytes: number
  /** Largest remembered check: a check keyed by longer variables is made again each time, never kept. */
  readonly maxEntryBytes: number
}

/**
 * checkOperation, remembered per schema, document, operation name and variables: 10,000 subscribers
 * of one subscription document with a few dozen variable sets walk it a few dozen times, not 10,000.
 * Bounded in bytes across all documents (least recently used first out), and a key longer than
 * maxEntryBytes is never kept: the variables a caller sends (undeclared ones too) are the key, and a
 * walk is cheap beside reading the request that carried them.
 */
export class CostChecks {
  private readonly entries: LRUCache<string, OperationCheck>
  /** A number per schema and document (the key names them, and must not keep them alive). */
  private readonly ids = new WeakMap<object, number>()
  private nextId = 0

  constructor (options: CostChecksOptions) {
    // maxEntrySize: a larger check is not stored (and never evicts others to make room).
    this.entries = new LRUCache({ maxSize: options.maxBytes, maxEntrySize: options.maxEntryBytes, sizeCalculation: (_check, key) => CostChecks.sizeOf(key) })
  }

  private static sizeOf (key: string): number {
    return key.length * 2 + ENTRY_OVERHEAD_BYTES
  }

  /** Bytes the remembered checks take, about: at most maxBytes. */
  get bytes (): number {
    return this.entries.calculatedSize
  }

  /** How many checks are remembered. */
  get size (): number {
    return this.entries.size
  }

  check (schema: GraphQLSchema, document: DocumentNode, variables: unknown, operationName: unknown): OperationCheck {
    const name = typeof operationName === 'string' ? operationName : null
    const operation = getOperationAST(document, name ?? undefined)
    if (operation === null || operation === undefined) return { cost: null, invalid: null }
    const values = typeof variables === 'object' && variables !== null ? variables as Args : {}
    // Variables that do not coerce: no cost can be told (as the walk finds), and nothing is remembered.
    if (getVariableValues(schema, operation.variableDefinitions ?? [], values, { maxErrors: 1 }).errors !== undefined) return { cost: null, invalid: null }
    let key: string
    try {
      // Only the variables the walk's findings depend on: a dataset(id: $id) asked with 10,000 ids is walked once.
      // An absent variable (its default) and one sent as null differ: [] and [null].
      const relevant = relevantVariables(operation, document).map((variable) => Object.hasOwn(values, variable) ? [values[variable]] : [])
      key = `${this.idOf(schema)}:${this.idOf(document)}:${JSON.stringify([name, relevant])}`
    } catch {
      // Variables JSON cannot hold (a cycle or a BigInt from a door that does not parse JSON): not remembered.
      return checkOperation(schema, document, variables, operationName)
    }
    const known = this.entries.get(key)
    if (known !== undefined) return known
    const check = checkOperation(schema, document, variables, operationName)
    this.entries.set(key, check)
    return check
  }

  private idOf (node: object): number {
    let id = this.ids.get(node)
    if (id === undefined) this.ids.set(node, id = this.nextId++)
    return id
  }
}

/** Field names whose cost or argument check reads their arguments (pageSize, ids), whatever their parent type. */
const ARGUMENT_FIELDS: ReadonlySet<string> = new Set([
  ...Object.entries(FIELD_COSTS).filter(([, rule]) => typeof rule.calls === 'function' || typeof rule.items === 'function').map(([key]) => key),
  ...Object.keys(NESTED_ARGUMENT_CHECKS)
].map((key) => key.slice(key.indexOf('.') + 1)))

/** The relevant variables of each operation: a syntax tree is read once (the document cache keeps it). */
const relevantByOperation = new WeakMap<OperationDefinitionNode, string[]>()

/**
 * The variables an operation's cost check depends on, sorted: those in the arguments of ARGUMENT_FIELDS
 * and of directives (@skip, @include), in the operation or any fragment of its document. Any other
 * variable (an id, a filter) changes neither the cost nor a nested argument's rule.
 */
export function relevantVariables (operation: OperationDefinitionNode, document?: DocumentNode): string[] {
  const known = relevantByOperation.get(operation)
  if (known !== undefined) return known
  const names = new Set<string>()
  const collect = (node: Parameters<typeof visit>[0]): void => {
    visit(node, { Variable: (variable) => { names.add(variable.name.value) } })
  }
  const walk = (node: Parameters<typeof visit>[0]): void => {
    visit(node, {
      Field: (field) => { if (ARGUMENT_FIELDS.has(field.name.value)) for (const argument of field.arguments ?? []) collect(argument) },
      Directive: (directive) => { for (const argument of directive.arguments ?? []) collect(argument) },
      VariableDefinition: () => false
    })
  }
  walk(operation)
  // Fragments are not under the operation's node: every fragment of the document counts (a superset is safe).
  for (const definition of document?.definitions ?? []) if (definition.kind === Kind.FRAGMENT_DEFINITION) walk(definition)
  const sorted = [...names].sort()
  relevantByOperation.set(operation, sorted)
  return sorted
}
