import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Kind } from 'graphql'
import { ConfigError, type TrustedDocumentsSettings } from '../config.js'
import { parseDocument } from './document.js'

/*
 * Trusted documents (TRUSTED_DOCUMENTS): a manifest of the operations first-party clients ship, in
 * the format GraphQL Code Generator's client preset writes with `persistedDocuments`
 * ({"sha256:<hex>": "<document>"}; keys of bare hex are read too). A request may name a document by
 * its id instead of sending its text, as `documentId` (GraphQL over HTTP, Appendix A) or as
 * `extensions.persistedQuery.sha256Hash` (version 1, Apollo's form); every door resolves the id here
 * into the text, which then passes the same checks as any text. With TRUSTED_DOCUMENTS_ONLY, a
 * text whose sha256 is not in the manifest is refused. The manifest is read at start-up, where a
 * file that cannot be read, is not such a JSON object, or holds a key that is not the sha256 of its
 * document stops the gateway with a ConfigError, and again on SIGHUP, where such a file is logged and
 * the manifest in use is kept (src/plugins/graph.ts).
 */

/** What a request names to run, as its door read it: the text, an id, or both. */
export interface DocumentParams {
  readonly query?: unknown
  readonly documentId?: unknown
  readonly extensions?: unknown
}

/** The text to run (the request's own `query` when it named no id), or why the request is refused (QUERY_REJECTED). */
export type Resolution = { readonly query: unknown, readonly refused?: undefined } | { readonly refused: string }

const SHA256_ID = /^(?:sha256:)?([0-9a-fA-F]{64})$/

function sha256 (text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

/** The manifest's documents by the hex of their sha256; throws ConfigError naming the problem. */
export function readManifest (path: string): ReadonlyMap<string, string> {
  const problem = (detail: string): ConfigError => new ConfigError([`TRUSTED_DOCUMENTS: ${detail}`])
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw problem(`cannot read ${JSON.stringify(path)} (${(err as NodeJS.ErrnoException).code ?? String(err)}): expected the path of a persisted documents manifest`)
  }
  let manifest: unknown
  try {
    manifest = JSON.parse(text)
  } catch (err) {
    throw problem(`${JSON.stringify(path)} is not JSON (${(err as Error).message}): expected {"sha256:<hex>": "<document>", ...}`)
  }
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) {
    throw problem(`${JSON.stringify(path)} is not a JSON object: expected {"sha256:<hex>": "<document>", ...} as the client preset writes it`)
  }
  const documents = new Map<string, string>()
  for (const [key, document] of Object.entries(manifest)) {
    const hex = SHA256_ID.exec(key)?.[1]?.toLowerCase()
    if (hex === undefined) throw problem(`the key ${JSON.stringify(key.slice(0, 80))} in ${JSON.stringify(path)} is not a sha256 document id (sha256:<64 hex digits>)`)
    if (typeof document !== 'string') throw problem(`the document of ${key} in ${JSON.stringify(path)} is not a string`)
    if (sha256(document) !== hex) throw problem(`the key ${key} in ${JSON.stringify(path)} is not the sha256 of its document: regenerate the manifest`)
    documents.set(hex, document)
  }
  return documents
}

const INTROSPECTION_FIELDS = new Set(['__schema', '__type', '__typename'])

/** Every operation of `source` is a query whose top-level fields all introspect (false when it does not parse under `maxTokens`). */
export function introspectsOnly (source: unknown, maxTokens: number): boolean {
  if (typeof source !== 'string' || source.length > 100_000) return false
  let document
  try {
    document = parseDocument(source, maxTokens)
  } catch {
    return false
  }
  const operations = document.definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION)
  return operations.length > 0 && operations.every((operation) => operation.operation === 'query' &&
    operation.selectionSet.selections.every((selection) => selection.kind === Kind.FIELD && INTROSPECTION_FIELDS.has(selection.name.value)))
}

export class TrustedDocuments {
  constructor (
    private documents: ReadonlyMap<string, string> | null,
    private readonly settings: Pick<TrustedDocumentsSettings, 'only' | 'allowIntrospection'>,
    private readonly maxTokens: number
  ) {}

  /** Documents in the manifest now (0 without one). */
  get size (): number {
    return this.documents?.size ?? 0
  }

  /**
   * Takes a new manifest's documents (read by readManifest, which refused a bad one): requests resolved
   * from now on see them; a request already resolved runs the text it was given.
   */
  replace (documents: ReadonlyMap<string, string>): void {
    this.documents = documents
  }

  /** The names of the manifest's operations (for metric labels); its documents parsed once, at start-up. */
  operationNames (): string[] {
    const names: string[] = []
    for (const text of this.documents?.values() ?? []) {
      try {
        for (const definition of parseDocument(text, this.maxTokens).definitions) {
          if (definition.kind === Kind.OPERATION_DEFINITION && definition.name !== undefined) names.push(definition.name.value)
        }
      } catch {
        // A manifest document that does not parse is refused when it is run; it names nothing here.
      }
    }
    return names
  }

  /** The document a request runs: the text its id names, or its own text once it may run. */
  resolve (params: DocumentParams): Resolution {
    const text = typeof params.query === 'string' && params.query !== '' ? params.query : undefined
    const named = idOf(params)
    if (named !== undefined && 'refused' in named) return named
    if (named === undefined) return this.admit(params.query, text)
    if (this.documents === null) {
      // Without a manifest an id means nothing; a text sent beside it (Apollo's retry) runs as any text.
      if (text !== undefined) return { query: text }
      return { refused: `This gateway has no trusted documents (TRUSTED_DOCUMENTS is not set), so ${named.field} cannot name one: send the document's text in "query".` }
    }
    const hex = SHA256_ID.exec(named.id)?.[1]?.toLowerCase()
    if (hex === undefined) return { refused: `${named.field} must be a sha256 document id (sha256:<64 hex digits>), got ${JSON.stringify(named.id.slice(0, 80))}.` }
    const document = this.documents.get(hex)
    if (document === undefined) {
      const instead = this.settings.only ? '' : ', or send the document\'s text in "query"'
      return { refused: `No trusted document has the id ${JSON.stringify(named.id.slice(0, 80))}: use the ids of the manifest this gateway loads (TRUSTED_DOCUMENTS)${instead}.` }
    }
    if (text !== undefined && text !== document) {
      return { refused: `The "query" sent is not the document ${named.field} names: send the id alone.` }
    }
    return { query: document }
  }

  /** A request's own text, under TRUSTED_DOCUMENTS_ONLY only when its sha256 is in the manifest (or it introspects, when allowed). */
  private admit (query: unknown, text: string | undefined): Resolution {
    if (!this.settings.only || text === undefined) return { query }
    if (this.documents?.has(sha256(text)) === true) return { query }
    if (this.settings.allowIntrospection && introspectsOnly(text, this.maxTokens)) return { query }
    return {
      refused: 'This gateway accepts only trusted documents: send the "documentId" of a document in its manifest (TRUSTED_DOCUMENTS) instead of a text it does not hold.'
    }
  }
}

/** The id a request names and the parameter that named it, undefined when none, or why it cannot be read. */
function idOf (params: DocumentParams): { id: string, field: string } | { refused: string } | undefined {
  if (params.documentId !== undefined && params.documentId !== null) {
    if (typeof params.documentId !== 'string') return { refused: '"documentId" must be a string: the id of a trusted document (sha256:<64 hex digits>).' }
    return { id: params.documentId, field: '"documentId"' }
  }
  const extensions = params.extensions
  if (typeof extensions !== 'object' || extensions === null || !('persistedQuery' in extensions)) return undefined
  const persisted = extensions.persistedQuery
  if (typeof persisted !== 'object' || persisted === null) return { refused: '"extensions.persistedQuery" must be an object: {"version": 1, "sha256Hash": "<hex>"}.' }
  const { version, sha256Hash } = persisted as { version?: unknown, sha256Hash?: unknown }
  if (version !== 1) return { refused: `Only version 1 of "extensions.persistedQuery" is supported, got ${JSON.stringify(version) ?? 'none'}.` }
  if (typeof sha256Hash !== 'string') return { refused: '"extensions.persistedQuery.sha256Hash" must be a string: the sha256 of a trusted document, in hex.' }
  return { id: sha256Hash, field: '"extensions.persistedQuery.sha256Hash"' }
}
