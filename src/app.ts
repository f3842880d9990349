import cors from '@fastify/cors'
import rateLimit from '@fastify/rate-limit'
import Fastify, { type FastifyInstance } from 'fastify'
import type { DestinationStream } from 'pino'
import { callerKey, createAuth, registerHttpAuth } from './auth/index.js'
import { clientErrorHandler } from './transports/client-errors.js'
import type { Config, RemoteUpstream } from './config.js'
import { graphiqlPlugin } from './transports/graphiql/plugin.js'
import { depthLimit, fieldLimit, noSubscriptionOverHttp } from './graphql/limits.js'
import type { EnrichOutcome } from './graphql/mutations/enrich.js'
import { IdempotencyStore } from './graphql/mutations/idempotency.js'
import { contextFactory, registerGraphQL } from './graphql/index.js'
import { registerHealth } from './transports/health.js'
import { Invalidations } from './live/invalidation.js'
import { LiveRegistry } from './live/registry.js'
import { registerWebSocket } from './transports/websocket/plugin.js'
import { loggerOptions, requestOptions } from './logger.js'
import { VisualLayerClient } from './upstream/client.js'
import { ServiceTokens } from './upstream/token.js'

export interface BuildOptions {
  /** Where pino writes (tests capture logs here); stdout by default. */
  logStream?: DestinationStream
}

/** The gateway as a Fastify instance. It never listens: `server.ts` does, tests use it directly. */
export async function buildApp (config: Config<RemoteUpstream>, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logStream === undefined ? loggerOptions(config.logLevel) : { ...loggerOptions(config.logLevel), stream: options.logStream },
    ...requestOptions(),
    // In-flight requests finish on close; idle keep-alive sockets are closed at once.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    // Headers too large and other requests Node refuses: answered in the gateway's error shape.
    clientErrorHandler
  })

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })

  // While closing, answers to in-flight requests end their keep-alive connections; otherwise the
  // server would wait on them after they went idle and shutdown would hang until its deadline.
  let closing = false
  app.addHook('preClose', async () => { closing = true })
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close')
  })

  // Frontends served from another origin may call the gateway only from the origins configured.
  if (config.corsOrigins.length > 0) {
    await app.register(cors, { origin: [...config.corsOrigins], methods: ['GET', 'POST'], allowedHeaders: ['authorization', 'content-type', 'x-request-id'], exposedHeaders: ['x-request-id'], maxAge: 600 })
  }

  const { apiKey, apiSecret } = config.upstream
  const serviceTokens = apiKey !== null && apiSecret !== null ? new ServiceTokens({ apiKey, apiSecret }) : null
  const auth = await createAuth(app, config)
  const vl = new VisualLayerClient({
    settings: config.upstream,
    serviceTokens,
    logger: app.log.child({ component: 'upstream' }),
    onVerdict: (credential, accepted) => { if (accepted) auth.scopes.accepted(credential); else auth.scopes.refused(credential) },
    scopeOf: (credential) => auth.scopes.scopeOf(credential),
    standingOf: (credential) => auth.scopes.standingOf(credential)
  })
  app.addHook('onClose', async () => { await vl.close() })

  const reported = new Set<string>()
  const onUnknown = (kind: string, value: string): void => {
    const key = `${kind}\u0000${value}`
    if (reported.has(key)) return
    reported.add(key)
    app.log.warn({ kind, value: value.slice(0, 100) }, `Visual Layer sent a ${kind} this gateway does not know; it is shown as UNKNOWN`)
  }

  registerHttpAuth(app, auth, config.maxQueryTokens)
  if (config.rateLimitPerMinute > 0) {
    // After authentication (its preHandler is added first), so each caller has its own allowance.
    await app.register(rateLimit, {
      hook: 'preHandler',
      max: config.rateLimitPerMinute,
      timeWindow: 60_000,
      allowList: (request) => request.routeOptions.url !== '/graphql',
      keyGenerator: (request) => request.caller === null ? `address:${request.ip}` : callerKey(auth, request.caller, request.ip),
      errorResponseBuilder: (_request, context) => Object.assign(
        new Error(`Too many requests: at most ${context.max} a minute for each caller. Try again in ${context.after}.`),
        { statusCode: 429 }
      )
    })
  }
  registerHealth(app, { vl, cacheMs: config.readyCacheMs })
  const invalidations = new Invalidations()
  const live = new LiveRegistry({ vl, invalidations, intervalMs: config.live.pollIntervalMs, maxPollsPerSecond: config.live.maxPollsPerSecond, log: app.log.child({ component: 'live' }), scopeOf: (credential) => auth.scopes.scopeOf(credential) })
  // Before the pool closes: pollers end their subscriptions and stop.
  app.addHook('preClose', async () => { live.close() })
  const makeContext = contextFactory({ vl, onUnknown, batchConcurrency: config.upstream.batchConcurrency, maxCallsPerOperation: config.upstream.maxCallsPerOperation, scopeOf: (credential) => auth.scopes.scopeOf(credential), invalidations, live, idempotency: new IdempotencyStore<EnrichOutcome>({ windowMs: config.idempotencyWindowMs }) })
  const validationRules = [depthLimit(config.maxQueryDepth), fieldLimit(config.maxQueryFields)]
  const limits = { maxTokens: config.maxQueryTokens, rules: validationRules }
  await registerGraphQL(app, makeContext, [...validationRules, noSubscriptionOverHttp], limits)
  if (config.graphiql) await app.register(graphiqlPlugin, { endpoint: '/graphql' })
  registerWebSocket(app, {
    path: '/graphql',
    auth,
    schema: () => app.graphql.schema,
    context: makeContext,
    limits,
    connectionInitWaitMs: config.wsInitTimeoutMs,
    maxSubscriptionsPerConnection: config.live.maxSubscriptionsPerConnection,
    maxConnectionsPerCaller: config.live.maxConnectionsPerCaller,
    callerKey: (caller, remoteAddress) => callerKey(auth, caller, remoteAddress)
  })
  return app
}
