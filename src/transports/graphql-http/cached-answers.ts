import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { DocumentNode } from 'graphql'
import type { Auth } from '../../auth/index.js'
import type { GatewayContext } from '../../graphql/context.js'
import type { LoaderName } from '../../graphql/loaders.js'
import { isLive, type OperationParams } from '../../graphql/pipeline/pipeline.js'
import type { Credential, TaskListParams } from '../../upstream/client.js'
import { etagOf } from '../conditional.js'
import type { AnswerReads, ResponseCache } from './response-cache.js'

/*
 * The response cache at the door (RESPONSE_CACHE_TTL_MS, off at 0): a query over GET or POST whose
 * (document, operation name, variables, credential scope, media type) was answered without errors
 * less than a TTL ago, and whose reads nothing has invalidated since, gets that answer without
 * executing. It has passed every stage of the pipeline first, as a shared execution's waiter has (its
 * authentication, its document's limits, its cost, its own allowance), and is one operation in logs
 * (`cached: true`) and metrics. Never a mutation, a subscription or a live query (`@live`), never an
 * answer with errors (an error names its request), never a request that asks for its cost
 * (`x-gateway-cost`: the cost is the execution's own). Writes through the gateway and the changes
 * pollers see drop the answers that read what changed (plugin.ts subscribes them).
 */

interface Pending {
  /** The key without its scope: the scope is told again once the execution is done (below). */
  readonly rest: string
  readonly credential: Credential
  readonly mark: number
  readonly reads: ExecutionReads
}

declare module 'fastify' {
  interface FastifyRequest {
    /** A query executing whose clean answer is to be kept. */
    responseCacheEntry: Pending | null
    /** Whether this request's answer is clean (set by preSerialization, for a request whose answer may be kept). */
    responseCacheClean: boolean
    /** The ETag of a cached answer sent: conditional-get.ts uses it rather than hashing the body again. */
    knownEtag: string | null
  }
}

export interface CachedAnswers {
  /** For a query the pipeline prepared: whether it was answered from the cache (false: it executes, and its clean answer is kept). */
  answer: (request: FastifyRequest, reply: FastifyReply, params: OperationParams, text: unknown, document: DocumentNode) => Promise<boolean>
  /** Tracks what the execution of `request` reads, until the returned function is called. */
  track: (request: FastifyRequest, context: GatewayContext) => () => void
}

const NOTHING: CachedAnswers = { answer: async () => false, track: () => () => {} }

/** Told of each lookup: `hit`, `miss`, and `kept` for a miss whose answer was kept (vlgw_response_cache_answers_total). */
export type CacheCount = (result: 'hit' | 'miss' | 'kept') => void

export function registerCachedAnswers (app: FastifyInstance, auth: Auth, cache: ResponseCache | null, count: CacheCount): CachedAnswers {
  app.decorateRequest('responseCacheEntry', null)
  app.decorateRequest('responseCacheClean', false)
  app.decorateRequest('knownEtag', null)
  if (cache === null) return NOTHING
  app.addHook('preSerialization', async (request, _reply, payload) => {
    if (request.responseCacheEntry !== null) request.responseCacheClean = typeof payload === 'object' && payload !== null && !('errors' in payload)
    return payload
  })
  app.addHook('onSend', async (request, reply, payload) => {
    const pending = request.responseCacheEntry
    if (pending === null) return payload
    request.responseCacheEntry = null
    const contentType = reply.getHeader('content-type')
    if (!request.responseCacheClean || reply.statusCode !== 200 || typeof payload !== 'string' || typeof contentType !== 'string') return payload
    // A passthrough token Visual Layer has just accepted is its account's now: its answer is the account's (src/auth/scope.ts).
    const key = `${auth.scopes.scopeOf(pending.credential)}\u0000${pending.rest}`
    if (cache.set(key, { body: payload, contentType, etag: etagOf(payload, contentType) }, pending.reads, pending.mark)) count('kept')
    return payload
  })
  return {
    async answer (request, reply, params, text, document) {
      const rest = keyOf(request, params, text, document)
      if (rest === null || request.caller === null) return false
      const { credential } = request.caller
      const hit = cache.get(`${auth.scopes.scopeOf(credential)}\u0000${rest}`)
      if (hit === undefined) {
        count('miss')
        request.responseCacheEntry = { rest, credential, mark: cache.mark, reads: new ExecutionReads() }
        return false
      }
      count('hit')
      request.operation?.record.cached()
      request.cleanResult = true
      request.knownEtag = hit.etag
      await reply.code(200).header('content-type', hit.contentType).send(hit.body)
      return true
    },
    track (request, context) {
      const pending = request.responseCacheEntry
      if (pending === null) return () => {}
      context.loaders.track(pending.reads.record)
      return () => { context.loaders.track(null) }
    }
  }
}

/** What one execution read: the datasets, and whether it read a list of the whole account. */
class ExecutionReads implements AnswerReads {
  readonly datasetIds = new Set<string>()
  account = false

  readonly record = (loader: LoaderName, key: unknown): void => {
    if (loader === 'account') {
      this.account = true
    } else if (loader === 'taskPage') {
      const datasetId = (key as TaskListParams).dataset_id
      if (datasetId === undefined) this.account = true
      else this.datasetIds.add(datasetId)
    } else {
      this.datasetIds.add(key as string)
    }
  }
}

/** What makes two queries of one credential scope the same answer, or null when the request's answer is not to be kept. */
function keyOf (request: FastifyRequest, { operationName, variables }: OperationParams, text: unknown, document: DocumentNode): string | null {
  if (typeof text !== 'string' || request.headers['x-gateway-cost'] === 'true') return null
  if (isLive(document, operationName, variables)) return null
  const media = request.wantsGraphQLResponse ? 'graphql-response' : 'json'
  return `${media}\u0000${typeof operationName === 'string' ? operationName : ''}\u0000${canonicalJson(variables ?? null)}\u0000${text}`
}

/** JSON with every object's keys in order: the same variables sent in another order are the same answer. */
export function canonicalJson (value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return item
    return Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  })
}
