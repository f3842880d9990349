import { getOperationAST, GraphQLError, Kind, type DocumentNode, type GraphQLSchema, type OperationTypeNode, type ValidationRule } from 'graphql'
import { GatewayError } from '../../errors.js'
import { checkCost, readDocument, readDocumentInTurn, type DocumentLimits, type ReadDocument } from '../document.js'
import type { DocumentParams, TrustedDocuments } from '../trusted-documents.js'

/*
 * The stages of an operation before it runs, each a small function (pipeline.ts calls them in
 * turn): the text a document id names, the document read under the gateway's limits and validated,
 * the operation the request runs, and its worst-case cost. Each answers its value or the GraphQL
 * errors that refuse the operation.
 */

export type Stage<T> = { value: T, errors?: undefined } | { value?: undefined, errors: readonly GraphQLError[] }

export function rejected (message: string): GraphQLError {
  return new GraphQLError(message, { originalError: new GatewayError('QUERY_REJECTED', message) })
}

/** A refusal of the gateway's own (its code, its message) as the errors of an operation. */
export function refusal (code: GatewayError['code'], message: string): readonly GraphQLError[] {
  return [new GraphQLError(message, { originalError: new GatewayError(code, message) })]
}

/** The text to run: the request's own, or the one its document id names; with TRUSTED_DOCUMENTS_ONLY, a text not in the manifest is refused. */
export function resolveText (trusted: TrustedDocuments, params: DocumentParams): Stage<unknown> {
  const resolution = trusted.resolve(params)
  return resolution.refused === undefined ? { value: resolution.query } : { errors: [rejected(resolution.refused)] }
}

/**
 * The document of `text` under the gateway's limits (tokens, nesting, depth, fields, aliases,
 * directives), then validated with `rules`. A document not read before waits for its reader's turn
 * (the caller's lane; src/graphql/read-turns.ts): it is the dearest stage, and a burst of new texts
 * must not hold up every other caller. `reader` null: read at once.
 */
export async function readOperation (
  reader: string | null, schema: GraphQLSchema, text: unknown, limits: DocumentLimits, rules: readonly ValidationRule[]
): Promise<ReadDocument> {
  return reader === null ? readDocument(schema, text, limits, rules) : await readDocumentInTurn(reader, schema, text, limits, rules)
}

/** Why no operation of `document` can run under `operationName`, or null when one can. */
export function operationProblem (document: DocumentNode, operationName: unknown): string | null {
  const name = typeof operationName === 'string' && operationName !== '' ? operationName : undefined
  if (getOperationAST(document, name) !== null) return null
  const names = document.definitions.flatMap((definition) => definition.kind === Kind.OPERATION_DEFINITION ? [definition.name?.value ?? '(anonymous)'] : [])
  if (names.length === 0) return 'The document holds no operation (only fragments): add a query or a mutation.'
  if (name === undefined) return `The document holds ${names.length} operations (${names.join(', ')}): name the one to run in "operationName".`
  return `The document has no operation named ${JSON.stringify(name.slice(0, 80))}; it holds ${names.join(', ')}.`
}

/** The type of the operation the request runs, or null when the document names none that can run. */
export function operationType (document: DocumentNode, operationName: unknown): OperationTypeNode | null {
  const name = typeof operationName === 'string' && operationName !== '' ? operationName : undefined
  return getOperationAST(document, name)?.operation ?? null
}

/** The worst-case cost of the operation with its variables (src/graphql/cost.ts; null when it cannot be told), and its refusal over MAX_QUERY_COST. */
export function costOf (
  schema: GraphQLSchema, document: DocumentNode, limits: DocumentLimits, variables: unknown, operationName: unknown
): { cost: number | null, errors?: readonly GraphQLError[] } {
  const { cost, error } = checkCost(schema, document, limits, variables, operationName)
  return error === undefined ? { cost } : { cost, errors: [error] }
}
