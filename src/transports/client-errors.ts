import { randomUUID } from 'node:crypto'
import { maxHeaderSize, STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { ConnectionError, FastifyInstance } from 'fastify'

/**
 * Requests Node refuses before Fastify sees them (headers too large, not HTTP, too slow) get the
 * gateway's error shape, as every other refusal does: `{data: null, errors: [...]}` with a code and a
 * request id, and a message that says what was too large. Fastify's default answers another shape.
 */
export function clientErrorHandler (this: FastifyInstance, err: ConnectionError, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const [status, message] = refusalOf(err.code)
  const requestId = randomUUID()
  this.log.info({ requestId, code: err.code, status }, 'request refused before it was read')
  if (socket.writable) {
    const body = JSON.stringify({ data: null, errors: [{ message, extensions: { code: 'QUERY_REJECTED', requestId } }] })
    const head = [
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
      'Content-Type: application/json; charset=utf-8',
      `Content-Length: ${Buffer.byteLength(body)}`,
      `x-request-id: ${requestId}`,
      'Connection: close'
    ]
    socket.write(`${head.join('\r\n')}\r\n\r\n${body}`)
  }
  socket.destroy()
}

function refusalOf (code: string | undefined): [number, string] {
  if (code === 'HPE_HEADER_OVERFLOW') {
    return [
      431,
      `The request's headers are larger than the gateway accepts (${maxHeaderSize} bytes in all). A Visual Layer JWT is far smaller: check the Authorization header, and any cookies sent with it.`
    ]
  }
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, 'The request was not received in time; send it again.']
  return [400, 'The request is not valid HTTP.']
}
