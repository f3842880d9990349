import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Auth } from '../../auth/index.js'
import type { OperationParams } from '../../graphql/pipeline/pipeline.js'

/*
 * Identical queries in flight share one execution. A request whose query, operation name, variables,
 * accepted media type, cost header (x-gateway-cost) and credential scope are those of a query already
 * running waits for that one (the leader) and is answered with its serialized body, instead of
 * resolving, serializing and sending the same fields again: fifty clients polling one dashboard cost one execution, as they
 * already cost one upstream call. Never mutations; never across credential scopes (the scope is the
 * one shared upstream reads use, src/auth/scope.ts).
 *
 * Only an answer without errors is shared: an error names the request it came from (its requestId),
 * and a failure (an aborted leader, a refused token) may be the leader's own. Then every waiting
 * request runs itself, as it would have without sharing. A request joins only while the leader runs:
 * nothing is cached after it answers. Each request still passes authentication and the pipeline's
 * stages first (its document's limits, its cost, its own allowance), and is one operation in logs
 * and metrics.
 */

interface Shared {
  readonly body: string
  readonly contentType: string
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The key of the execution this request leads, when others may join it. */
    sharedExecution: string | null
    /** Whether the answer this request serialized had no errors (set by preSerialization). */
    sharedAnswerClean: boolean
  }
}

/** For a query the pipeline prepared: whether the request was answered with the leader's body (false: it executes, leading or alone). */
export type JoinExecution = (request: FastifyRequest, reply: FastifyReply, params: OperationParams, text: unknown) => Promise<boolean>

export function registerSharedExecutions (app: FastifyInstance, auth: Auth): JoinExecution {
  const running = new Map<string, { leader: string, result: Promise<Shared | null>, settle: (shared: Shared | null) => void, turns: Turns }>()
  app.decorateRequest('sharedExecution', null)
  app.decorateRequest('sharedAnswerClean', false)

  const settle = (request: FastifyRequest, shared: Shared | null): void => {
    const key = request.sharedExecution
    if (key === null) return
    request.sharedExecution = null
    const entry = running.get(key)
    if (entry === undefined) return
    running.delete(key)
    entry.settle(shared)
  }

  const join: JoinExecution = async (request, reply, params, text) => {
    const key = keyOf(request, auth, params, text)
    if (key === null) return false
    const leader = running.get(key)
    if (leader === undefined) {
      let settleLeader: (shared: Shared | null) => void = () => {}
      const result = new Promise<Shared | null>((resolve) => { settleLeader = resolve })
      running.set(key, { leader: String(request.id), result, settle: settleLeader, turns: new Turns() })
      request.sharedExecution = key
      return false
    }
    const shared = await leader.result
    // The leader failed or answered errors: this request runs itself.
    if (shared === null) return false
    await leader.turns.next()
    request.operation?.record.sharedFrom(leader.leader)
    // Only a result without errors is shared (conditional-get.ts gives it an ETag).
    request.cleanResult = true
    await reply.code(200).header('content-type', shared.contentType).send(shared.body)
    return true
  }
  app.addHook('preSerialization', async (request, _reply, payload) => {
    if (request.sharedExecution !== null) {
      request.sharedAnswerClean = typeof payload === 'object' && payload !== null && !('errors' in payload)
    }
    return payload
  })
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.sharedExecution === null) return payload
    const contentType = reply.getHeader('content-type')
    const clean = request.sharedAnswerClean && reply.statusCode === 200 && typeof payload === 'string' && typeof contentType === 'string'
    settle(request, clean ? { body: payload, contentType } : null)
    return payload
  })
  // A leader that never sent (its client left, an error before serializing) releases its waiters.
  app.addHook('onResponse', async (request) => { settle(request, null) })
  app.addHook('onRequestAbort', async (request) => { settle(request, null) })
  return join
}

/** Answers a few waiting requests per turn of the event loop, so that new requests are read in between. */
const ANSWERS_PER_TURN = 8

/**
 * Turns of the event loop for the requests that waited on one execution: answered all at once, they
 * would hold the loop until the last is sent, and the next request (which starts the next upstream
 * call) would wait behind them; in small groups, new requests are read between the groups.
 */
class Turns {
  private given = 0
  private last: Promise<void> = Promise.resolve()

  async next (): Promise<void> {
    if (this.given++ % ANSWERS_PER_TURN !== 0) return await this.last
    const previous = this.last
    this.last = previous.then(async () => { await new Promise<void>((resolve) => setImmediate(resolve)) })
    return await this.last
  }
}

/** What makes two requests the same execution, or null when the request has no document text. */
function keyOf (request: FastifyRequest, auth: Auth, { operationName, variables }: OperationParams, text: unknown): string | null {
  if (typeof text !== 'string' || request.caller === null) return null
  const scope = auth.scopes.scopeOf(request.caller.credential)
  // What shapes the answer besides the operation: its media type, and whether it reports its cost.
  const shape = `${request.headers.accept ?? ''}\u0000${String(request.headers['x-gateway-cost'] ?? '')}`
  return `${scope}\u0000${shape}\u0000${typeof operationName === 'string' ? operationName : ''}\u0000${JSON.stringify(variables ?? null)}\u0000${text}`
}
