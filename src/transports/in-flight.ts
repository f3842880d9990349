import type { Socket } from 'node:net'
import type { FastifyReply, FastifyRequest } from 'fastify'

/*
 * The request each socket is receiving, from the moment Fastify routed it (its headers are in)
 * until it is received whole: what Node's clientError event does not say when it refuses a request
 * whose body is late (which door it was for, its request id, whether an answer already went out).
 * A WeakMap by socket: it forgets a socket with the socket.
 */

export type InFlight =
  | { readonly kind: 'receiving', readonly requestId: string, readonly url: string }
  /** Its door answered before the body was read (a refusal): nothing more may be written on the socket. */
  | { readonly kind: 'answered' }

export class InFlightRequests {
  private readonly bySocket = new WeakMap<Socket, { request: FastifyRequest, reply: FastifyReply }>()

  /** Called on every request as soon as it is routed (onRequest). */
  track (request: FastifyRequest, reply: FastifyReply): void {
    this.bySocket.set(request.raw.socket, { request, reply })
  }

  /** The request the socket is still receiving; undefined between requests (its next request's headers are not in). */
  of (socket: Socket): InFlight | undefined {
    const entry = this.bySocket.get(socket)
    if (entry === undefined || entry.request.raw.complete) return undefined
    if (entry.reply.raw.headersSent) return { kind: 'answered' }
    return { kind: 'receiving', requestId: String(entry.request.id), url: entry.request.url }
  }
}
