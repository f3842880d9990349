import { GraphQLError, Lexer, parse, Source, TokenKind, validate, type DocumentNode, type GraphQLSchema, type ValidationRule } from 'graphql'
import { LRUCache } from 'lru-cache'
import { GatewayError } from '../errors.js'
import type { CostChecks } from './cost-checks.js'
import { checkOperation, costRefusal } from './cost.js'
import type { ReadTurns } from './read-turns.js'

/*
 * Reading a client's document under the gateway's limits, the one place that owns them: HTTP,
 * WebSocket and the introspection check of token-less requests all come through here. Tokens and
 * nesting are counted before parsing, so an oversized document never takes the memory of a syntax
 * tree nor the stack of the recursive parser; the gateway's own rules (depth, fields) run before
 * graphql's, whose cost grows faster than the document.
 */

export interface DocumentLimits {
  readonly maxTokens: number
  /** The gateway's limit rules, each linear in the size of the document. */
  readonly rules: readonly ValidationRule[]
  /** Documents that passed, by their text (one per app: they were validated against its schema). */
  readonly cache?: DocumentCache
  /** Most Visual Layer calls one operation may cost at worst (src/graphql/cost.ts); unset: not checked. */
  readonly maxCost?: number
  /** The cost checks already made (one per app); unset: each is made again. */
  readonly costChecks?: CostChecks
  /** Validation errors reported before validation stops (graphql's default is 100); unset: graphql's default. */
  readonly maxErrors?: number
  /** Turns for reading documents not read before (one per app, see read-turns.ts); unset: read at once. */
  readonly turns?: ReadTurns
}

/**
 * The worst-case cost of the operation a request runs and, when it is over the limit or a nested
 * field's argument breaks its rule, the error that refuses it. Apart from readDocument because it
 * depends on the variables, not only on the text.
 */
export function checkCost (
  schema: GraphQLSchema,
  document: DocumentNode,
  limits: DocumentLimits,
  variables: unknown,
  operationName: unknown
): { cost: number | null, error?: GraphQLError } {
  const { cost, invalid } = limits.costChecks?.check(schema, document, variables, operationName) ?? checkOperation(schema, document, variables, operationName)
  if (invalid !== null) return { cost, error: new GraphQLError(invalid.message, { originalError: invalid }) }
  if (cost === null || limits.maxCost === undefined || cost <= limits.maxCost) return { cost }
  return { cost, error: costRefusal(cost, limits.maxCost) }
}

/**
 * Bytes a syntax tree keeps per token of its text, with room above the most measured: graphql's
 * parser keeps every token (the locations link them) and a node or two for most. Measured on Node.js
 * 24: 262 (many arguments), 284 (aliases), 325 (a task page), 370 (a subscription with a string id),
 * 506 (one field named again and again, the densest a text can be); test/graphql/document-cache-heap.test.ts
 * measures them again. Per character it ranged from 47 to 157, so the text's length alone would
 * misjudge a dense document threefold.
 */
export const TREE_BYTES_PER_TOKEN = 600

/** What a kept document takes, about: its tokens and nodes, and its text (two bytes a character at most). */
export function treeBytes (text: string, document: DocumentNode): number {
  let tokens = 0
  for (let token = document.loc?.startToken.next; token != null && token.kind !== TokenKind.EOF; token = token.next) tokens++
  return tokens * TREE_BYTES_PER_TOKEN + text.length * 2
}

/**
 * Valid documents by their text, bounded by the bytes their syntax trees take, not by count: 10,000
 * subscriptions of one operation share one tree instead of keeping one each, and are parsed and
 * validated once. A document that failed is never kept, and neither is a text over `maxTextLength`,
 * so unique or padded texts cannot fill memory (they are parsed each time, within the token limit).
 */
export class DocumentCache {
  private readonly entries: LRUCache<string, { document: DocumentNode, passed: WeakSet<readonly ValidationRule[]>, bytes: number }>

  constructor (maxBytes = 16 * 1024 * 1024, private readonly maxTextLength = 16 * 1024) {
    this.entries = new LRUCache({ maxSize: maxBytes, sizeCalculation: (entry) => Math.max(1, entry.bytes) })
  }

  /** The document of `text` if it passed the limits, and whether it also passed `rules`. */
  get (text: string, rules: readonly ValidationRule[]): { document: DocumentNode, passedRules: boolean } | undefined {
    const entry = this.entries.get(text)
    return entry === undefined ? undefined : { document: entry.document, passedRules: rules.length === 0 || entry.passed.has(rules) }
  }

  /** Keeps a document that passed the limits (and `rules`, when given). */
  remember (text: string, document: DocumentNode, rules: readonly ValidationRule[]): void {
    if (text.length > this.maxTextLength) return
    const entry = this.entries.get(text) ?? { document, passed: new WeakSet(), bytes: treeBytes(text, document) }
    if (rules.length > 0) entry.passed.add(rules)
    this.entries.set(text, entry)
  }

  get size (): number {
    return this.entries.size
  }

  /** What the kept documents take, by treeBytes. */
  get bytes (): number {
    return this.entries.calculatedSize
  }
}

const TOO_DEEP = 'The document nests too deeply for this gateway to read. Flatten it, or pass long or nested values as variables.'

/**
 * Brackets a document may nest: far beyond what the depth limit lets run (MAX_QUERY_DEPTH is at most
 * 100), far below what overflows the stack of graphql's recursive parser and rules (about a thousand
 * levels, less in a worker thread).
 */
const MAX_NESTING = 256

const OPENING: ReadonlySet<string> = new Set([TokenKind.BRACE_L, TokenKind.BRACKET_L, TokenKind.PAREN_L])
const CLOSING: ReadonlySet<string> = new Set([TokenKind.BRACE_R, TokenKind.BRACKET_R, TokenKind.PAREN_R])

function rejected (message: string): GraphQLError {
  return new GraphQLError(message, { originalError: new GatewayError('QUERY_REJECTED', message) })
}

const tooManyTokens = (maxTokens: number): string =>
  `The document has more than ${maxTokens} tokens, the most this gateway accepts. Split it into several requests, or pass long lists as variables.`

/**
 * Reads the tokens once, without recursion: the refusal of a document with too many tokens or
 * nested too deep, whichever comes first, or null. A lexical error ends the scan: the parser says it.
 */
function scan (source: string, maxTokens: number): string | null {
  const lexer = new Lexer(new Source(source))
  let tokens = 0
  let nesting = 0
  for (;;) {
    let kind: string
    try {
      kind = lexer.advance().kind
    } catch {
      return null
    }
    if (kind === TokenKind.EOF) return null
    if (++tokens > maxTokens) return tooManyTokens(maxTokens)
    if (OPENING.has(kind) && ++nesting > MAX_NESTING) return TOO_DEEP
    if (CLOSING.has(kind)) nesting--
  }
}

/** Parses a document, or throws a GraphQLError: graphql's syntax error, or QUERY_REJECTED. */
export function parseDocument (source: unknown, maxTokens: number): DocumentNode {
  if (typeof source !== 'string') throw rejected('The query must be a string holding a GraphQL document.')
  const refusal = scan(source, maxTokens)
  if (refusal !== null) throw rejected(refusal)
  try {
    return parse(source, { maxTokens })
  } catch (err) {
    // The scan bounds nesting; this is the last guard of the stack.
    if (err instanceof RangeError) throw rejected(TOO_DEEP)
    throw err
  }
}

/** graphql's last error once `maxErrors` are found (graphql-js 16). */
const ABORTED = 'Too many validation errors, error limit reached. Validation aborted.'

/**
 * Validates with `rules`; a document nested deeper than the stack allows is refused, not thrown.
 * Validation stops after `maxErrors`: each unknown field costs a search for its closest names, so
 * a refusal of a document of 100 unknown fields cost ~5 ms of CPU, and a client could send many at once.
 */
function validateDocument (schema: GraphQLSchema, document: DocumentNode, rules: readonly ValidationRule[], maxErrors?: number): readonly GraphQLError[] {
  try {
    const errors = validate(schema, document, rules, maxErrors === undefined ? undefined : { maxErrors })
    return errors.map((error) => error.message === ABORTED
      ? new GraphQLError(`The document has more than ${maxErrors ?? 100} validation errors: the rest were not checked. Fix these, then send it again.`)
      : error)
  } catch (err) {
    if (err instanceof RangeError) return [rejected(TOO_DEEP)]
    throw err
  }
}

export type ReadDocument = { document: DocumentNode, errors?: undefined } | { document?: undefined, errors: readonly GraphQLError[] }

/**
 * The document of `source` once it passes the limits and then `rules`, or the errors that refuse it.
 * With no `rules`, only the limits are checked.
 */
export function readDocument (schema: GraphQLSchema, source: unknown, limits: DocumentLimits, rules: readonly ValidationRule[] = []): ReadDocument {
  const cached = typeof source === 'string' ? limits.cache?.get(source, rules) : undefined
  if (cached?.passedRules === true) return { document: cached.document }
  let document: DocumentNode
  if (cached !== undefined) {
    document = cached.document
  } else {
    try {
      document = parseDocument(source, limits.maxTokens)
    } catch (err) {
      if (err instanceof GraphQLError) return { errors: [err] }
      throw err
    }
    const refused = validateDocument(schema, document, limits.rules, limits.maxErrors)
    if (refused.length > 0) return { errors: refused }
  }
  const errors = rules.length === 0 ? [] : validateDocument(schema, document, rules, limits.maxErrors)
  if (errors.length > 0) return { errors }
  limits.cache?.remember(source as string, document, rules)
  return { document }
}

const noTurn = (turns: ReadTurns): string =>
  `Too many documents never sent before are waiting to be read for you (at most ${turns.maxWaiting}). ` +
  'Wait for their answers, then send more; documents already sent are not counted.'

/**
 * readDocument, once it is `caller`'s turn when the document was not read before (read-turns.ts): a
 * document in the cache is read at once. A caller with too many reads waiting is refused (RATE_LIMITED).
 */
export async function readDocumentInTurn (
  caller: string,
  schema: GraphQLSchema,
  source: unknown,
  limits: DocumentLimits,
  rules: readonly ValidationRule[] = []
): Promise<ReadDocument> {
  const turns = limits.turns
  const cached = typeof source === 'string' ? limits.cache?.get(source, rules) : undefined
  if (turns !== undefined && cached?.passedRules !== true && !await turns.take(caller)) {
    const message = noTurn(turns)
    return { errors: [new GraphQLError(message, { originalError: new GatewayError('RATE_LIMITED', message) })] }
  }
  return readDocument(schema, source, limits, rules)
}
