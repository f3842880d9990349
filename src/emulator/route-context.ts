import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Authenticator } from './auth.js'
import { RequestValidator } from './request-validation.js'
import type { Clock } from './clock.js'
import type { EmulatorState } from './records.js'

/** What route handlers need: the clock, the current state (replaced on reset) and authentication. */
export interface RouteContext {
  readonly clock: Clock
  state(): EmulatorState
  readonly authenticate: Authenticator
}

export type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>

export interface RouteSpec {
  readonly method: 'GET' | 'POST' | 'DELETE'
  readonly url: string
  readonly handler: Handler
}

/**
 * The caller's account, then the UUID of a path parameter: authentication answers first (401
 * before 422), as FastAPI's security dependency does.
 */
export function callerAndPathId (
  ctx: RouteContext,
  request: FastifyRequest,
  param: 'dataset_id' | 'task_id'
): { account: ReturnType<Authenticator>, id: string } {
  const account = ctx.authenticate(request.headers.authorization)
  const validator = new RequestValidator()
  const id = validator.pathUuid(param, (request.params as Record<string, string>)[param] ?? '')
  validator.check()
  return { account, id }
}
