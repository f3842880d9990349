import { execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql'
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit'
import { LRUCache } from 'lru-cache'

/*
 * Queries and mutations are executed by graphql-jit, which compiles an operation into a function of
 * its own: the same answers as graphql-js for far less CPU per execution (docs/performance.md), at a
 * compilation that costs more than one execution. So an operation is compiled the second time its
 * document is executed, not the first: a document seen once, or parsed anew at each request (too
 * long for the document cache), is executed by graphql-js and never compiled.
 *
 * Compiled operations are kept by their document, most recently used first, bounded in bytes: on
 * Node.js 24 a compiled and executed operation with its syntax tree (which this cache keeps alive)
 * measured 11 to 14 KB for documents of 20 to 115 characters (its generated code and closures, whatever
 * the text) and 105 to 165 bytes per character for documents of 3,000 to 3,900 (many aliases, fields
 * with arguments, nesting); test/graphql/compiled-execution.test.ts measures them again.
 *
 * Two differences from graphql-js are covered here and in the schema: variables that do not coerce
 * are refused by graphql-js in its own words (graphql-jit's differ, and nothing ran), and every
 * field without a resolver of the map reads its property through one (src/graphql/schema.ts),
 * because graphql-jit inlines a bare property read outside its error handling.
 */

/** Bytes a compiled operation and its syntax tree take whatever its text, and per character of it, with room above what was measured. */
export const COMPILED_BYTES_FIXED = 20 * 1024
export const COMPILED_BYTES_PER_CHAR = 200

/** What a document's compiled operations are taken to keep. */
export function compiledBytes (document: DocumentNode): number {
  return COMPILED_BYTES_FIXED + textLength(document) * COMPILED_BYTES_PER_CHAR
}

export class CompiledQueries {
  /** Documents executed once, by their operation names: a mark that goes with the document. */
  private readonly seen = new WeakMap<DocumentNode, Set<string>>()
  /** Compiled operations (null: graphql-jit could not compile it) by document and operation name. */
  private readonly compiled: LRUCache<DocumentNode, Map<string, CompiledQuery | null>>

  constructor (readonly maxBytes = 32 * 1024 * 1024) {
    this.compiled = new LRUCache({ maxSize: maxBytes, sizeCalculation: (_entry, document) => compiledBytes(document) })
  }

  /** Executes a query or mutation: compiled from its document's second execution on. */
  async execute (args: ExecutionArgs): Promise<ExecutionResult> {
    const compiled = this.compiledFor(args)
    if (compiled === null) return await execute(args) as ExecutionResult
    const result = await compiled.query(args.rootValue, args.contextValue, args.variableValues)
    // Variables that do not coerce (nothing ran): graphql-js tells which and where in its own words.
    if (!('data' in result)) return await execute(args) as ExecutionResult
    return result
  }

  /** Bytes the compiled operations kept take, about: at most maxBytes. */
  get bytes (): number {
    return this.compiled.calculatedSize
  }

  /** How many documents have compiled operations kept. */
  get size (): number {
    return this.compiled.size
  }

  private compiledFor (args: ExecutionArgs): CompiledQuery | null {
    const name = args.operationName ?? ''
    const { document } = args
    let byName = this.compiled.get(document)
    const known = byName?.get(name)
    if (known !== undefined) return known
    let seen = this.seen.get(document)
    if (seen === undefined) this.seen.set(document, seen = new Set())
    if (!seen.has(name)) {
      seen.add(name)
      return null
    }
    // A document larger than the whole cache would be compiled again at each execution: graphql-js runs it.
    if (compiledBytes(document) > this.maxBytes) return null
    const made = compileQuery(args.schema, document, args.operationName ?? undefined)
    const compiled = isCompiledQuery(made) ? made : null
    if (byName === undefined) byName = new Map()
    byName.set(name, compiled)
    this.compiled.set(document, byName)
    return compiled
  }
}

function textLength (document: DocumentNode): number {
  return document.loc?.source.body.length ?? 0
}
