import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { LogController, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import type { LoggerOptions } from 'pino'
import type { LogLevel } from './config.js'

/**
 * pino JSON logs. Authorization headers, tokens and secrets never reach a log line: requests are
 * logged by method and path only, and known secret-bearing keys are censored wherever they appear.
 */
export function loggerOptions (level: LogLevel): LoggerOptions {
  return {
    level,
    messageKey: 'msg',
    redact: {
      paths: [
        'authorization', 'Authorization', '*.authorization', '*.Authorization', 'headers.authorization',
        'req.headers.authorization', 'token', '*.token', 'apiSecret', '*.apiSecret', 'secret', '*.secret',
        'connectionParams', '*.connectionParams', 'payload.Authorization', 'payload.authorization'
      ],
      censor: '[redacted]'
    },
    serializers: {
      req: (req: IncomingMessage & { method?: string, url?: string }) => ({ method: req.method, path: pathOnly(req.url) }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode })
    }
  }
}

/** The path without its query string: queries may carry tokens or personal data. */
function pathOnly (url: string | undefined): string | undefined {
  if (url === undefined) return undefined
  const at = url.indexOf('?')
  return at === -1 ? url : url.slice(0, at)
}

const REQUEST_ID = /^[\w.:-]{1,128}$/

/**
 * Fastify's request log lines, with one addition: the "request completed" line of a GraphQL
 * operation carries its cost (`cost: { estimated, upstreamCalls }`, set by the HTTP door in
 * src/transports/graphql-http/operation-cost.ts), so each operation's line says what it cost Visual Layer.
 */
class GatewayLogController extends LogController {
  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply, metadata?: Record<string, unknown>): void {
    const cost = (request as { operationCost?: unknown }).operationCost
    if ((error !== null && error !== undefined) || cost === null || cost === undefined || this.isLogDisabled(request)) {
      super.requestCompleted(error, request, reply, metadata)
      return
    }
    reply.log.info({ res: reply, responseTime: reply.elapsedTime, cost }, 'request completed')
  }
}

/**
 * Request ids: the caller's x-request-id when it is a sane token, a fresh UUID otherwise (no log
 * injection). Health probes are not logged per request: orchestrators call them every few seconds.
 */
export function requestOptions (): Pick<FastifyServerOptions, 'genReqId' | 'requestIdHeader' | 'logController'> {
  return {
    requestIdHeader: false,
    logController: new GatewayLogController({
      requestIdLogLabel: 'requestId',
      disableRequestLogging: (request) => request.url.startsWith('/health/')
    }),
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    }
  }
}
