import Fastify, { type FastifyInstance } from 'fastify'
import type { DestinationStream } from 'pino'
import type { Config, RemoteUpstream } from './config.js'
import { readManifest } from './graphql/trusted-documents.js'
import { loggerOptions, requestOptions } from './logger.js'
import authPlugin from './plugins/auth.js'
import domainPlugin from './plugins/domain.js'
import webhooksPlugin, { type WebhooksPluginOptions } from './plugins/webhooks.js'
import graphPlugin from './plugins/graph.js'
import httpBasics from './plugins/http-basics.js'
import type { LiveTime } from './domain/live/time.js'
import livePlugin from './plugins/live.js'
import loadShedding from './plugins/load-shedding.js'
import metricsPlugin from './plugins/metrics.js'
import operationsPlugin from './plugins/operations.js'
import pipelinePlugin from './plugins/pipeline.js'
import redisPlugin from './plugins/redis.js'
import httpSpansPlugin from './plugins/http-spans.js'
import upstreamPlugin from './plugins/upstream.js'
import { clientErrorHandler } from './transports/client-errors.js'
import { serverDeadlines } from './transports/deadlines.js'
import { InFlightRequests } from './transports/in-flight.js'
import { frameworkErrors, registerUnrouted } from './transports/unrouted.js'
import { GRAPHIQL_TOKEN_HEADERS, graphiqlPlugin } from './transports/graphiql/plugin.js'
import graphqlHttp from './transports/graphql-http/plugin.js'
import health from './transports/health.js'
import rest from './transports/rest/plugin.js'
import sse from './transports/sse/plugin.js'
import { trustFunction } from './transports/client-address.js'
import websocket from './transports/websocket/plugin.js'

/*
 * The gateway as a Fastify instance. It never listens: `server.ts` does, tests use it directly.
 * Shared services first (src/plugins: visible to every door), then the doors (src/transports: each
 * an encapsulated plugin owning its routes, hooks and lifetime).
 */

export interface BuildOptions {
  /** Where pino writes (tests capture logs here); stdout by default. */
  logStream?: DestinationStream
  /** Tests only: whether the gateway is under pressure, instead of measuring it (load shedding). */
  pressure?: () => boolean
  /** Tests only: the clock (milliseconds) of the WebSocket message and operation rates; performance.now by default. */
  clock?: () => number
  /** Tests only: the response cache's clock (milliseconds, its TTL); performance.now by default. */
  responseCacheClock?: () => number
  /** Tests only: the circuit breakers' clock (milliseconds, their cooldown); performance.now by default. */
  breakerClock?: () => number
  /** Tests only: the clock and timers live status waits on (pollers, poll ceiling, leases); the process's own by default. */
  liveTime?: LiveTime
  /** Tests only: the clock and timers of webhook deliveries, how target hosts resolve, how an attempt is sent. */
  webhooks?: Omit<WebhooksPluginOptions, 'config'>
}

export async function buildApp (config: Config<RemoteUpstream>, options: BuildOptions = {}): Promise<FastifyInstance> {
  // Read before anything starts: a bad manifest stops start-up with a ConfigError, leaving nothing open.
  const trustedDocuments = config.trustedDocuments.path === null ? null : readManifest(config.trustedDocuments.path)
  const trustProxy = trustFunction(config.trustProxy)
  const inFlight = new InFlightRequests()
  const app = Fastify({
    logger: options.logStream === undefined ? loggerOptions(config.logLevel) : { ...loggerOptions(config.logLevel), stream: options.logStream },
    ...requestOptions(),
    // In-flight requests finish on close; idle keep-alive sockets are closed at once.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    // Which proxies may say who the client is (X-Forwarded-For): TRUST_PROXY.
    trustProxy: config.trustProxy === false ? false : trustProxy,
    // Deadlines on receiving each request, and on idle keep-alive sockets (HTTP_*_TIMEOUT_MS).
    ...serverDeadlines(config.http),
    // Headers too large, requests not received in time and others Node refuses: answered in the gateway's error shape.
    clientErrorHandler: clientErrorHandler(config.http, inFlight),
    // URLs the router cannot read (a path parameter over 100 characters, bad percent-encoding): the gateway's shape, not Fastify's.
    frameworkErrors
  })
  // Paths nobody serves, and errors of doors without a handler of their own: the gateway's shape too.
  registerUnrouted(app)
  // Which request each socket is receiving, for the 408 of a body that comes too late (its door's shape, its request id).
  app.addHook('onRequest', async (request, reply) => { inFlight.track(request, reply) })

  // Before any route: its span of each HTTP request is the parent of everything else.
  if (config.tracing.endpoint !== null) await app.register(httpSpansPlugin)
  // Before load shedding: a shed request is timed and counted as any other.
  await app.register(metricsPlugin, {
    port: config.metricsPort,
    host: config.host,
    maxOperationNames: config.metricsMaxOperationNames,
    token: config.metricsToken
  })
  await app.register(httpBasics, { corsOrigins: config.corsOrigins, corsAllowedHeaders: config.corsAllowedHeaders })
  await app.register(loadShedding, { settings: config.loadShedding, ...(options.pressure === undefined ? {} : { pressure: options.pressure }) })
  await app.register(authPlugin, { config })
  await app.register(operationsPlugin, { tracing: config.tracing.endpoint !== null })
  await app.register(redisPlugin, { settings: config.redis })
  await app.register(upstreamPlugin, { settings: config.upstream, ...(options.breakerClock === undefined ? {} : { breakerClock: options.breakerClock }) })
  await app.register(livePlugin, { settings: config.live, ...(options.liveTime === undefined ? {} : { time: options.liveTime }) })
  await app.register(domainPlugin, { config })
  await app.register(webhooksPlugin, { config, ...options.webhooks })
  await app.register(graphPlugin, { config, trustedDocuments })
  await app.register(pipelinePlugin, {
    rateLimitPerMinute: config.rateLimitPerMinute,
    rateLimitMutationsPerMinute: config.rateLimitMutationsPerMinute,
    rateLimitUnprovenPerMinute: config.rateLimitUnprovenPerMinute,
    liveQueries: config.liveQueries
  })

  await app.register(health, { cacheMs: config.readyCacheMs, retryAfterSec: config.loadShedding.retryAfterSec })
  const responseCacheClock = options.responseCacheClock === undefined ? {} : { clock: options.responseCacheClock }
  await app.register(graphqlHttp, { responseCache: config.responseCache, ...responseCacheClock })
  // In the modes that need a token, every tab's headers editor opens on where it goes.
  if (config.graphiql) await app.register(graphiqlPlugin, { endpoint: '/graphql', defaultHeaders: config.authMode === 'none' ? '' : GRAPHIQL_TOKEN_HEADERS })
  await app.register(websocket, {
    path: '/graphql',
    connectionInitWaitMs: config.wsInitTimeoutMs,
    maxSubscriptionsPerConnection: config.live.maxSubscriptionsPerConnection,
    maxConnectionsPerCaller: config.live.maxConnectionsPerCaller,
    maxPendingPerAddress: config.wsMaxPendingPerAddress,
    maxPending: config.wsMaxPending,
    maxUnprovenPerAddress: config.wsMaxUnprovenPerAddress,
    trustProxy,
    retryAfterSec: config.loadShedding.retryAfterSec,
    limits: config.wsLimits,
    now: options.clock ?? (() => performance.now())
  })
  await app.register(sse, {
    path: '/graphql/stream',
    maxStreamsPerCaller: config.live.maxStreamsPerCaller,
    maxOperationsPerStream: config.live.maxSubscriptionsPerConnection,
    maxBufferedBytes: config.http.maxStreamBufferedBytes,
    graphqlPath: '/graphql'
  })
  await app.register(rest, {
    prefix: '/v1',
    rateLimitPerMinute: config.rateLimitPerMinute,
    rateLimitMutationsPerMinute: config.rateLimitMutationsPerMinute,
    rateLimitUnprovenPerMinute: config.rateLimitUnprovenPerMinute,
    maxStreamsPerCaller: config.http.maxRestStreamsPerCaller,
    maxBufferedBytes: config.http.maxStreamBufferedBytes
  })
  return app
}
