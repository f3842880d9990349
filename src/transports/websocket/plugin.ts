import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { CloseCode } from 'graphql-ws'
import { WebSocketServer } from 'ws'
import type { WsLimits } from '../../config.js'
import { shedBody } from '../../plugins/load-shedding.js'
import { abortOnLeave, authenticate } from '../authenticate.js'
import type { TrustFunction } from '../client-address.js'
import { SocketAdmission } from './admission.js'
import { connectionEnded } from '../events.js'
import { closeReason } from './close-reason.js'
import { GatewaySocket } from './gateway-socket.js'
import { SocketOperations, type Extra } from './operations.js'
import { serveGraphQLWs } from './ws-adapter.js'

/*
 * GraphQL over WebSocket at /graphql, with the `graphql-transport-ws` protocol of the graphql-ws
 * library (the one GraphiQL, Apollo and urql speak): an adapter of that protocol to the operation
 * pipeline (app.pipeline), as HTTP requests are. graphql-ws enforces the protocol's rules and close
 * codes; this door authenticates in `connection_init` (4403 when refused, before any subscription
 * starts), counts its sockets (admission.ts) and bounds what each may start (operations.ts). An
 * encapsulated plugin: it owns the upgrade listener and closes every socket before the app closes.
 */

export interface WsOptions {
  path: string
  connectionInitWaitMs: number
  maxSubscriptionsPerConnection: number
  maxConnectionsPerCaller: number
  /** Sockets that have not sent connection_init yet, per client address and in all. */
  maxPendingPerAddress: number
  maxPending: number
  /** Passthrough sockets whose token Visual Layer has not accepted yet, per client address. */
  maxUnprovenPerAddress: number
  trustProxy: TrustFunction
  /** Retry-After of an upgrade refused while the gateway sheds load. */
  retryAfterSec: number
  /** What one socket may cost: bytes, messages and operations a second, operation ids (config's WsLimits). */
  limits: WsLimits
  /** Milliseconds, for the rates of `limits` (tests drive it). */
  now: () => number
}

const websocket: FastifyPluginAsync<WsOptions> = async (app, options) => {
  const { auth } = app
  const { limits } = options
  const serverOptions = {
    noServer: true,
    maxPayload: limits.maxMessageBytes,
    // A socket the gateway closed (a bound passed) is read until the client answers; ws waits 30 s.
    // ws (8.23) reads closeTimeout; @types/ws does not list it yet, hence the variable.
    closeTimeout: limits.closeTimeoutMs,
    WebSocket: GatewaySocket
  }
  const wss = new WebSocketServer<typeof GatewaySocket>(serverOptions)
  const log = app.log.child({ component: 'websocket' })
  const admission = new SocketAdmission(auth, options, app.sharedState.slots('ws'), log)
  const operations = new SocketOperations(app.pipeline, options, log)
  app.metrics.watchWebSocketConnections(() => wss.clients.size)

  const server = serveGraphQLWs<Record<string, unknown>, Partial<Extra>>({
    schema: app.graph.schema,
    connectionInitWaitTimeout: options.connectionInitWaitMs,
    onConnect: async (ctx) => {
      const params = ctx.connectionParams ?? {}
      const connectionId = ctx.extra.connectionId = randomUUID()
      operations.opened(ctx.extra)
      // Every upstream call of every operation on the connection listens to it, aborted at once when the
      // socket closes: graphql-ws calls onClose only after every subscription returned.
      const socket = ctx.extra.socket
      ctx.extra.closed = abortOnLeave(socket)
      socket.once('close', () => { operations.closed(connectionId) })
      admission.initialized(socket)
      const { caller, refusal } = await authenticate(auth, params.Authorization ?? params.authorization)
      if (refusal !== undefined) {
        log.info({ connectionId, reason: refusal.logDetail }, 'WebSocket caller refused')
        socket.close(CloseCode.Forbidden, closeReason(refusal.message))
        return false
      }
      ctx.extra.caller = caller
      const slot = await admission.admit(socket, ctx.extra.request, caller)
      if (slot === null) return false
      ctx.extra.slot = slot
      return true
    },
    ...operations.hooks
  }, wss, log, { limits, now: options.now })

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = (request.url ?? '').split('?')[0]
    if (path !== options.path) {
      socket.destroy()
      return
    }
    // Load shedding (src/plugins/load-shedding.ts) holds for new sockets as for new requests.
    if (app.isUnderPressure()) {
      const body = JSON.stringify(shedBody(randomUUID(), options.retryAfterSec))
      socket.end(`HTTP/1.1 503 Service Unavailable\r\nRetry-After: ${options.retryAfterSec}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
      return
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      // After ws' own listener, which stops counting the socket in wss.clients.
      ws.once('close', () => { connectionEnded(app.server, 'websocket', () => wss.clients.size) })
      if (admission.upgraded(ws, request)) wss.emit('connection', ws, request)
    })
  }
  app.server.on('upgrade', onUpgrade)

  app.addHook('preClose', async () => {
    app.server.off('upgrade', onUpgrade)
    admission.stop()
    for (const client of wss.clients) client.close(1001, 'Server shutting down')
    await server.dispose()
    await new Promise<void>((resolve) => wss.close(() => resolve()))
    await admission.close()
  })
}

export default fp(websocket, {
  name: 'websocket',
  encapsulate: true,
  decorators: { fastify: ['auth', 'graph', 'metrics', 'pipeline', 'isUnderPressure', 'sharedState'] }
})
