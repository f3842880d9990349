import { setMaxListeners } from 'node:events'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Auth, Caller } from '../auth/index.js'
import { GatewayError } from '../errors.js'
import type { Leavable } from '../graphql/pipeline/ports.js'

/*
 * Who is calling, for every door: an Authorization value (an HTTP header, or the `Authorization`
 * of a WebSocket's connection_init payload) becomes a caller or a refusal (UNAUTHENTICATED), and the
 * door answers the refusal in its own protocol. Also the one place that ties an operation's
 * cancellation to its client leaving.
 */

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the door's authentication hook; null before, or on a route served without a token. */
    caller: Caller | null
  }
}

export type Authentication = { caller: Caller, refusal?: undefined } | { caller?: undefined, refusal: GatewayError }

/** The caller an Authorization value names, or the refusal to answer; other errors are thrown. */
export async function authenticate (auth: Auth, authorization: unknown): Promise<Authentication> {
  try {
    return { caller: await auth.authenticate(authorization) }
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err
    return { refusal: err }
  }
}

/** A door's answer to a refused HTTP request, in its own shape. */
export type RefuseCaller = (request: FastifyRequest, reply: FastifyReply, refusal: GatewayError) => FastifyReply

/**
 * Sets `request.caller` from its Authorization header, or answers the door's refusal. The reason is
 * logged as a short code: the message may quote the header's form, and the logs never hold it.
 */
export async function authenticateRequest (auth: Auth, request: FastifyRequest, reply: FastifyReply, refuse: RefuseCaller): Promise<FastifyReply | undefined> {
  const { caller, refusal } = await authenticate(auth, request.headers.authorization)
  if (caller !== undefined) {
    request.caller = caller
    return undefined
  }
  request.log.info({ reason: refusal.logDetail }, 'caller refused')
  return refuse(request, reply, refusal)
}

/** The 401 of the GraphQL doors over HTTP (GraphQL over HTTP, SSE), in the gateway's error shape. */
export const refuseGraphQLCaller: RefuseCaller = (request, reply, err) =>
  reply.code(401).header('www-authenticate', 'Bearer').send({
    data: null,
    errors: [{ message: err.message, extensions: { code: err.code, requestId: String(request.id) } }]
  })

/** A controller for one operation's (or one connection's) upstream calls: every call listens to it, a large page makes many. */
export function operationAbort (): AbortController {
  const controller = new AbortController()
  setMaxListeners(0, controller.signal)
  return controller
}

/** What closes when the client leaves (the pipeline's port: src/graphql/pipeline/ports.ts). */
export type { Leavable }

/** A signal aborted when the client leaves before its answer was complete: the upstream calls made for it stop. */
export function abortOnLeave (target: Leavable): AbortSignal {
  const controller = operationAbort()
  target.once('close', () => { if (target.writableFinished !== true) controller.abort() })
  return controller.signal
}
