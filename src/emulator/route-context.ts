import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Authenticator } from './auth.js'
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
