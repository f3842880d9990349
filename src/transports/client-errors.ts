import { randomUUID } from 'node:crypto'
import { maxHeaderSize, STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { ConnectionError, FastifyInstance } from 'fastify'
import type { HttpLimits } from '../config.js'
import type { InFlightRequests } from './in-flight.js'
import { PROBLEM_TYPE, problemOf, type Problem } from './rest/problem.js'

/**
 * Requests Node refuses before Fastify has read them (headers too large, not HTTP, headers or body
 * not received in time: see deadlines.ts) get the gateway's error shape, as every other refusal does:
 * `{data: null, errors: [...]}` with a code and a request id, and a message that says what went
 * wrong; a request of the REST door (/v1) whose body was late gets a problem (rest/problem.ts) with
 * its own request id. Fastify's default answers another shape. A request its door already answered
 * (a refusal sent before the body was read) gets nothing more: its socket is closed.
 */
export function clientErrorHandler (limits: Pick<HttpLimits, 'headersTimeoutMs' | 'requestTimeoutMs'>, inFlight: InFlightRequests) {
  return function (this: FastifyInstance, err: ConnectionError, socket: Socket): void {
    // A reset connection has nobody left to answer.
    if (err.code === 'ECONNRESET' || socket.destroyed) return
    const request = inFlight.of(socket)
    if (request?.kind === 'answered') {
      socket.destroy()
      return
    }
    const [status, message] = refusalOf(err.code, limits, request !== undefined)
    const requestId = request?.requestId ?? randomUUID()
    this.log.info({ requestId, code: err.code, status }, 'request refused before it was read')
    if (socket.writable) {
      const rest = request !== undefined && /^\/v1(?:[/?]|$)/.test(request.url)
      const body = rest
        ? JSON.stringify(problemOfStatus(status, message, requestId))
        : JSON.stringify({ data: null, errors: [{ message, extensions: { code: 'QUERY_REJECTED', requestId } }] })
      const head = [
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
        `Content-Type: ${rest ? PROBLEM_TYPE : 'application/json'}; charset=utf-8`,
        `Content-Length: ${Buffer.byteLength(body)}`,
        `x-request-id: ${requestId}`,
        'Connection: close'
      ]
      socket.write(`${head.join('\r\n')}\r\n\r\n${body}`)
    }
    socket.destroy()
  }
}

/** `receiving`: Fastify had routed the request (its headers were in), so what was late is its body. */
function refusalOf (code: string | undefined, limits: Pick<HttpLimits, 'headersTimeoutMs' | 'requestTimeoutMs'>, receiving: boolean): [number, string] {
  if (code === 'HPE_HEADER_OVERFLOW') {
    return [
      431,
      `The request's URL and headers are larger than the gateway accepts (${maxHeaderSize} bytes in all). A Visual Layer JWT is far smaller: ` +
        'check the Authorization header and any cookies sent with it, and send a long GraphQL document by POST rather than in the URL.'
    ]
  }
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return [408, receiving
      ? `The request was not received in time: its headers and body must arrive within ${limits.requestTimeoutMs} ms. Send it again without pausing.`
      : `The request's headers were not received in time: they must arrive within ${limits.headersTimeoutMs} ms. Send them again without pausing.`]
  }
  return [400, 'The request is not valid HTTP.']
}

function problemOfStatus (status: number, detail: string, requestId: string): Problem {
  if (status !== 408) return problemOf('BAD_USER_INPUT', detail, requestId)
  return { ...problemOf('BAD_USER_INPUT', detail, requestId), type: 'urn:vl-gateway:problem:request-timeout', title: 'Request timeout', status }
}
