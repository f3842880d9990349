import { setMaxListeners } from 'node:events'
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { getOperationAST, GraphQLError, specifiedRules, type ExecutionArgs, type ExecutionResult } from 'graphql'
import { CloseCode, type Context } from 'graphql-ws'
import { WebSocketServer, type WebSocket } from 'ws'
import { callerKey, isUnprovenKey, type Caller } from '../../auth/index.js'
import { GatewayError } from '../../errors.js'
import { shedBody } from '../../plugins/load-shedding.js'
import type { GatewayContext } from '../../graphql/context.js'
import { checkCost, readDocumentInTurn } from '../../graphql/document.js'
import { formatError, formatStreamedResult } from '../../graphql/error-formatter.js'
import type { DocumentParams } from '../../graphql/trusted-documents.js'
import type { Operation } from '../../plugins/operations.js'
import { CallerWindows } from '../allowance-windows.js'
import { CallerSlots, ClusterSlots } from '../caller-slots.js'
import { OperationAllowance } from '../operation-allowance.js'
import { unprovenRefusal } from '../rate-limits.js'
import { clientAddress, type TrustFunction } from '../client-address.js'
import { endAtExpiry, Expiry } from '../expiry.js'
import { TokenBucket } from '../token-bucket.js'
import type { WsLimits } from '../../config.js'
import { closeReason } from './close-reason.js'
import { serveGraphQLWs } from './ws-adapter.js'

/*
 * GraphQL over WebSocket at /graphql, with the `graphql-transport-ws` protocol of the graphql-ws
 * library (the one GraphiQL, Apollo and urql speak). graphql-ws enforces the protocol's rules and
 * close codes; this module adds authentication in `connection_init` (4403 when refused, before any
 * subscription starts) and ends subscriptions with UNAUTHENTICATED when the caller's token expires.
 * Sockets are counted three ways, so that no one class of socket can crowd out another: before
 * connection_init (pending, per address and in all), with a passthrough token Visual Layer has not
 * accepted yet (unproven, per address, moved to the account as soon as it is accepted), and per caller
 * (across the replicas with REDIS_URL; the first two are each replica's own business).
 * An encapsulated plugin: it serves `app.graph` and authenticates with `app.auth`; it owns the
 * upgrade listener and closes every socket before the app closes.
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
  /** Queries (and mutations, when `rateLimitMutationsPerMinute` is 0) per minute for each caller, as over HTTP; 0: no limit. */
  rateLimitPerMinute: number
  rateLimitMutationsPerMinute: number
  /** Queries and mutations per minute in each lane of unproven passthrough tokens (see callerKey); 0: they count as the others. */
  rateLimitUnprovenPerMinute: number
  /** What one socket may cost: bytes, messages and operations a second, operation ids (config's WsLimits). */
  limits: WsLimits
  /** Milliseconds, for the rates of `limits` (tests drive it). */
  now: () => number
}

/** What this module keeps on graphql-ws' per-connection `extra`, set in onConnect. */
interface Extra extends Record<PropertyKey, unknown> {
  connectionId: string
  caller: Caller
  /** Set once the connection counts against a limit: which one, under which key (it moves when its token is proven). */
  slot?: Slot
  /** Aborted when the connection closes: upstream calls made for it stop. */
  closed: AbortController
  /** Operations (subscribe messages) the connection may start now: WS_SUBSCRIBE_BURST, then WS_SUBSCRIBES_PER_SECOND. */
  starts?: TokenBucket
  /** Whether a start was refused already (logged once per connection). */
  startsRefused?: boolean
}

interface Slot { pool: CallerSlots | ClusterSlots, key: string }

type WsContext = Context<Record<string, unknown>, { socket: WebSocket, request: IncomingMessage } & Partial<Extra>>

function connectionState (ctx: WsContext): Extra {
  const { connectionId, caller, closed } = ctx.extra
  if (connectionId === undefined || caller === undefined || closed === undefined) throw new Error('operation before connection_init was accepted')
  return { connectionId, caller, closed }
}

const websocket: FastifyPluginAsync<WsOptions> = async (app, options) => {
  // The same schema, operation context and document limits as HTTP requests.
  const { auth, graph } = app
  const { limits } = options
  const serverOptions = {
    noServer: true,
    maxPayload: limits.maxMessageBytes,
    // A socket the gateway closed (a bound passed) is read until the client answers; ws waits 30 s.
    // ws (8.23) reads closeTimeout; @types/ws does not list it yet, hence the variable.
    closeTimeout: limits.closeTimeoutMs
  }
  const wss = new WebSocketServer(serverOptions)
  const log = app.log.child({ component: 'websocket' })
  const connections = new ClusterSlots(options.maxConnectionsPerCaller, app.sharedState.slots('ws'), log)
  const unproven = new CallerSlots(options.maxUnprovenPerAddress)
  const pending = new CallerSlots(options.maxPendingPerAddress)
  let pendingTotal = 0
  /** Ends a socket's pending state (connection_init received, or closed); once per socket. */
  const pendingEnds = new WeakMap<WebSocket, () => void>()
  /** Open sockets of unproven passthrough tokens, by fingerprint: moved to their account once Visual Layer accepts the token. */
  const waitingForProof = new Map<string, Set<{ socket: WebSocket, caller: Caller, address: string, slot: Slot }>>()
  const expiries = new WeakMap<Caller, Expiry>()
  // The HTTP door's rate limits hold for queries and mutations sent over a socket too; subscriptions
  // have their own ceilings (per connection, per caller, and the poll ceiling).
  const windows = new CallerWindows(app.sharedState.windows, log)
  const allowances = {
    requests: new OperationAllowance(options.rateLimitPerMinute, windows, 'ws:requests:'),
    mutations: new OperationAllowance(options.rateLimitMutationsPerMinute, windows, 'ws:mutations:'),
    unproven: new OperationAllowance(options.rateLimitUnprovenPerMinute, windows, 'ws:')
  }
  app.metrics.watchWebSocketConnections(() => wss.clients.size)
  /** Each operation in flight, by `connectionId:id`, for its log line and metrics (src/plugins/operations.ts). */
  const operations = new Map<string, Operation>()
  const operationOf = (ctx: WsContext, id: string): Operation | undefined => operations.get(`${ctx.extra.connectionId ?? 'ws'}:${id}`)
  const finish = (ctx: WsContext, id: string): void => {
    const key = `${ctx.extra.connectionId ?? 'ws'}:${id}`
    operations.get(key)?.finish()
    operations.delete(key)
  }
  const formatting = { hideSuggestions: !graph.introspection }

  const tooManyForCaller = (): string => closeReason(
    `Too many WebSocket connections: at most ${options.maxConnectionsPerCaller} per caller. Close one, or share one for many subscriptions.`
  )
  const stopListening = auth.scopes.onAccepted((fingerprint) => {
    const sockets = waitingForProof.get(fingerprint)
    if (sockets === undefined) return
    waitingForProof.delete(fingerprint)
    for (const entry of sockets) {
      moveToAccount(entry).catch((err: unknown) => { log.error({ err }, 'unexpected error counting a WebSocket connection against its account') })
    }
  })
  const moveToAccount = async (entry: { socket: WebSocket, caller: Caller, address: string, slot: Slot }): Promise<void> => {
    const key = callerKey(auth, entry.caller, entry.address)
    if (!await connections.take(key)) {
      // Its account holds its ceiling already: the socket goes, as it would have at connection_init.
      entry.socket.close(1008, tooManyForCaller())
      return
    }
    // Closed while the slot was taken: its close released the address' slot; this one goes too.
    if (entry.socket.readyState !== entry.socket.OPEN) {
      connections.release(key)
      return
    }
    entry.slot.pool.release(entry.slot.key)
    entry.slot.pool = connections
    entry.slot.key = key
  }

  const server = serveGraphQLWs<Record<string, unknown>, Partial<Extra>>({
    schema: graph.schema,
    connectionInitWaitTimeout: options.connectionInitWaitMs,
    onConnect: async (ctx) => {
      const params = ctx.connectionParams ?? {}
      const connectionId = ctx.extra.connectionId = randomUUID()
      ctx.extra.starts = new TokenBucket(limits.subscribeBurst, limits.subscribesPerSecond, options.now)
      const closed = new AbortController()
      // Every upstream call of every subscription on the connection listens to it.
      setMaxListeners(0, closed.signal)
      ctx.extra.closed = closed
      // At once when the socket closes: graphql-ws calls onClose only after every subscription returned.
      const socket = ctx.extra.socket
      socket.once('close', () => {
        closed.abort()
        // graphql-ws completes a connection's operations after an abrupt close; one refused while the
        // client was already gone is not: its record ends here.
        for (const [key, operation] of operations) {
          if (!key.startsWith(`${connectionId}:`)) continue
          operation.finish()
          operations.delete(key)
        }
      })
      pendingEnds.get(socket)?.()
      try {
        const caller = await auth.authenticate(params.Authorization ?? params.authorization)
        ctx.extra.caller = caller
        const address = clientAddress(ctx.extra.request, options.trustProxy)
        const proven = caller.credential.kind !== 'bearer' || auth.scopes.standingOf(caller.credential) === 'proven'
        // An unproven token could be made up at will: it counts in its lane (its address, or its API key once
        // one of the key's tokens was accepted), apart from proven callers.
        const key = callerKey(auth, caller, address)
        const slot: Slot = { pool: proven ? connections : unproven, key }
        if (!await slot.pool.take(slot.key)) {
          socket.close(1008, proven
            ? tooManyForCaller()
            : closeReason(`Too many WebSocket connections ${key.startsWith('unproven:address:') ? 'from your address' : 'for your API key'} with tokens Visual Layer has not accepted yet: at most ${options.maxUnprovenPerAddress}.`))
          return false
        }
        // The socket may have closed while the token was checked: its 'close' has passed, release now.
        if (socket.readyState !== socket.OPEN) {
          slot.pool.release(slot.key)
          return false
        }
        ctx.extra.slot = slot
        if (caller.credential.kind === 'bearer' && !proven) {
          const fingerprint = caller.credential.fingerprint
          const entry = { socket, caller, address, slot }
          const sockets = waitingForProof.get(fingerprint) ?? new Set()
          waitingForProof.set(fingerprint, sockets.add(entry))
          socket.once('close', () => {
            sockets.delete(entry)
            if (sockets.size === 0 && waitingForProof.get(fingerprint) === sockets) waitingForProof.delete(fingerprint)
          })
        }
        // The slot it holds when it closes: it may have moved to the account since.
        socket.once('close', () => { slot.pool.release(slot.key) })
        return true
      } catch (err) {
        if (!(err instanceof GatewayError)) throw err
        log.info({ connectionId: ctx.extra.connectionId, reason: err.logDetail }, 'WebSocket caller refused')
        ctx.extra.socket.close(CloseCode.Forbidden, closeReason(err.message))
        return false
      }
    },
    context: (ctx, id) => {
      const state = connectionState(ctx)
      const context = graph.context(state.caller, `${state.connectionId}:${id}`, state.closed.signal)
      const operation = operationOf(ctx, id)
      // A subscription's events are not traced: its span would last as long as its client.
      operation?.attach(context, operation.type !== 'subscription')
      operation?.traceContext()
      return context as unknown as Record<string, unknown>
    },
    subscribe: async (args: ExecutionArgs) => {
      const result = await graph.subscribe(args)
      const caller = (args.contextValue as GatewayContext).caller
      if (!isAsyncIterable(result) || caller.expiresAt === null) return result
      // The caller is the connection's: its subscriptions share one expiry timer.
      let expiry = expiries.get(caller)
      if (expiry === undefined) expiries.set(caller, expiry = new Expiry(caller.expiresAt))
      return endAtExpiry(result[Symbol.asyncIterator](), expiry)
    },
    onNext: (ctx, id, _payload, _args, result) => {
      // Most events carry no error: sent as they are, with no request id or record looked up per subscriber.
      if (result.errors === undefined) return undefined
      const formatted = formatStreamedResult(result, `${ctx.extra.connectionId ?? 'ws'}:${id}`, log, formatting)
      operationOf(ctx, id)?.errors(formatted?.errors)
      return formatted
    },
    onError: (ctx, id, _payload, errors) => {
      const formatted = errors.map((error) => formatError(error, `${ctx.extra.connectionId ?? 'ws'}:${id}`, log, formatting))
      operationOf(ctx, id)?.errors(formatted)
      finish(ctx, id)
      return formatted as never
    },
    onComplete: (ctx, id) => { finish(ctx, id) },
    onSubscribe: async (ctx, id, payload) => {
      // Before anything is kept or logged under the id: ids come back in every message and log line.
      if (id.length > limits.maxOperationIdLength) {
        log.info({ connectionId: ctx.extra.connectionId, maxOperationIdLength: limits.maxOperationIdLength }, 'WebSocket closed: an operation id too long')
        ctx.extra.socket.close(CloseCode.BadRequest, closeReason(`Operation id too long: at most ${limits.maxOperationIdLength} characters.`))
        // Not sent: the socket is closing.
        return [new GraphQLError('Operation id too long')]
      }
      // Each start costs a document read, a cost check, an operation record and maybe a poller: a
      // connection starting thousands a second stalled the event loop. Past the bound, that one
      // operation is refused and the connection and its other subscriptions go on (a client library
      // shows it as that operation's error; a close would make it resubscribe everything at once).
      const starts = ctx.extra.starts
      if (starts !== undefined && !starts.take()) {
        if (ctx.extra.startsRefused !== true) {
          ctx.extra.startsRefused = true
          log.info({ connectionId: ctx.extra.connectionId, subscribesPerSecond: limits.subscribesPerSecond, subscribeBurst: limits.subscribeBurst },
            'WebSocket operations refused: too many started on this connection')
        }
        const error = new GatewayError('RATE_LIMITED',
          `Too many operations started on this connection: at most ${limits.subscribesPerSecond} a second, after a burst of ${limits.subscribeBurst}. ` +
          `Try again in ${Math.max(1, Math.ceil(starts.waitMs() / 1000))} s.`)
        return [new GraphQLError(error.message, { originalError: error })]
      }
      const requestId = `${ctx.extra.connectionId ?? 'ws'}:${id}`
      // The connection's logger: the operation's line names its requestId itself (a child logger per
      // subscription would only repeat it, and live as long as the subscription).
      const operation = app.operations.start({ transport: 'websocket', requestId, log, logNamesRequest: false })
      operations.set(requestId, operation)
      // The token was checked at connection_init; an operation sent after it expired is refused.
      const expiresAt = ctx.extra.caller?.expiresAt ?? null
      if (expiresAt !== null && expiresAt <= Date.now()) {
        const error = new GatewayError('UNAUTHENTICATED', 'Your token has expired: reconnect with a fresh token.')
        return [new GraphQLError(error.message, { originalError: error })]
      }
      if (Object.keys(ctx.subscriptions).length > options.maxSubscriptionsPerConnection) {
        const error = new GatewayError(
          'RATE_LIMITED',
          `Too many subscriptions on this connection: at most ${options.maxSubscriptionsPerConnection}. Complete one first, or open another connection.`
        )
        return [new GraphQLError(error.message, { originalError: error })]
      }
      // A trusted document's id (`documentId`, or extensions.persistedQuery, beside a "query" of "" as
      // graphql-ws requires a string) names its text; with TRUSTED_DOCUMENTS_ONLY, other texts are refused.
      const resolution = graph.trusted.resolve(payload as DocumentParams)
      if (resolution.refused !== undefined) {
        const error = new GatewayError('QUERY_REJECTED', resolution.refused)
        return [new GraphQLError(error.message, { originalError: error })]
      }
      // Parsed and validated here, under the same limits as HTTP documents; graphql-ws then runs these. A
      // document not read before waits for the caller's turn, counted across its sockets (src/graphql/read-turns.ts).
      const { document, errors } = await readDocumentInTurn(ctx.extra.slot?.key ?? 'unknown', graph.schema, resolution.query, graph.limits, specifiedRules)
      if (errors !== undefined) return [...errors]
      operation.identify(document, payload.operationName)
      const { error } = checkCost(graph.schema, document, graph.limits, payload.variables, payload.operationName)
      if (error !== undefined) return [error]
      const type = getOperationAST(document, payload.operationName ?? undefined)?.operation
      if (type === 'query' || type === 'mutation') {
        // The slot's key is the caller's lane (an unproven token's own lane, see callerKey).
        const key = ctx.extra.slot?.key ?? 'unknown'
        const kind = isUnprovenKey(key) && options.rateLimitUnprovenPerMinute > 0
          ? 'unproven'
          : type === 'mutation' && options.rateLimitMutationsPerMinute > 0 ? 'mutations' : 'requests'
        const waitSec = await allowances[kind].take(key)
        if (waitSec !== null) {
          const max = kind === 'mutations' ? options.rateLimitMutationsPerMinute : options.rateLimitPerMinute
          const error = new GatewayError('RATE_LIMITED', kind === 'unproven'
            ? `${unprovenRefusal(options.rateLimitUnprovenPerMinute)} Try again in ${waitSec} s.`
            : `Too many ${kind}: at most ${max} a minute for each caller. Try again in ${waitSec} s.`)
          return [new GraphQLError(error.message, { originalError: error })]
        }
      }
      return { schema: graph.schema, document, variableValues: payload.variables, operationName: payload.operationName }
    },
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
      // Sockets before connection_init cost memory and a timer and prove nothing: capped per address and in all.
      const address = clientAddress(request, options.trustProxy)
      if (pendingTotal >= options.maxPending) {
        ws.close(1013, 'The gateway holds too many WebSocket connections waiting for connection_init; try again shortly.')
        return
      }
      if (!pending.take(address)) {
        ws.close(1008, closeReason(`Too many WebSocket connections from your address waiting for connection_init: at most ${options.maxPendingPerAddress}.`))
        return
      }
      pendingTotal++
      let ended = false
      const end = (): void => {
        if (ended) return
        ended = true
        pendingTotal--
        pending.release(address)
      }
      pendingEnds.set(ws, end)
      ws.once('close', end)
      wss.emit('connection', ws, request)
    })
  }
  app.server.on('upgrade', onUpgrade)

  app.addHook('preClose', async () => {
    app.server.off('upgrade', onUpgrade)
    stopListening()
    for (const client of wss.clients) client.close(1001, 'Server shutting down')
    await server.dispose()
    await new Promise<void>((resolve) => wss.close(() => resolve()))
    await connections.close()
  })
}

export default fp(websocket, {
  name: 'websocket',
  encapsulate: true,
  decorators: { fastify: ['auth', 'graph', 'metrics', 'operations', 'isUnderPressure', 'sharedState'] }
})

function isAsyncIterable (value: unknown): value is AsyncIterable<ExecutionResult> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value
}
