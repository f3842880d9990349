import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import type { GraphQLSchema } from 'graphql'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { PollOutcome } from '../domain/live/poller.js'
import type { BreakerState } from '../upstream/breaker.js'
import type { UpstreamObserver } from '../upstream/observer.js'

/*
 * Prometheus metrics (`app.metrics`), with prom-client. One Registry per app, never prom-client's
 * global one: tests start many gateways in one process, and each counts only its own traffic. The
 * upstream client and the pollers report through observer interfaces they are given (no import of
 * this layer from below); gauges of things that exist (sockets, pollers, the breaker) are read at
 * scrape time from sources the plugins register. With METRICS_PORT set, GET /metrics is served on
 * that port by a plain node:http server, apart from the API, with the process' default metrics;
 * unset, nothing listens and the counters only cost their increments.
 */

declare module 'fastify' {
  interface FastifyInstance {
    metrics: GatewayMetrics
  }
}

/** Buckets of operation latency, in seconds: a cached read takes milliseconds, a 50-task page a second or more. */
const OPERATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
/** Buckets of one Visual Layer request, in seconds, up to the longest UPSTREAM_TIMEOUT_MS a deployment usually sets. */
const UPSTREAM_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

/** The breaker's state as a number: a gauge can only hold numbers. */
const BREAKER_VALUES: Readonly<Record<BreakerState, number>> = { closed: 0, 'half-open': 1, open: 2 }

/** The label of every operation with no name, or a name past the bound: a caller cannot grow the label set. */
export const OTHER_OPERATION = '(other)'

const NAME = /^[_A-Za-z][_0-9A-Za-z]{0,99}$/

/**
 * Operation names as a bounded label: the first `max` distinct names that earn one keep it, later
 * ones fold into OTHER_OPERATION with the unnamed ones. What earns a label is the operations
 * plugin's rule (an operation that ran, for a caller something vouched for): refused or trivial
 * operations cost nothing to send, and must not use up the set. The names of the trusted documents
 * manifest are reserved at start-up, apart from `max`: no flood can take their labels.
 */
export class OperationNames {
  private readonly seen = new Set<string>()
  private readonly reserved = new Set<string>()
  constructor (private readonly max = 100) {}

  /** Names that always have a label of their own (the manifest's operations). */
  reserve (names: Iterable<string>): void {
    for (const name of names) if (NAME.test(name)) this.reserved.add(name)
  }

  /** The label of `name`; a name not labelled yet takes one only when it `earns` it, and while there is room. */
  label (name: string | null, earns = true): string {
    if (name === null || !NAME.test(name)) return OTHER_OPERATION
    if (this.reserved.has(name) || this.seen.has(name)) return name
    if (!earns || this.seen.size >= this.max) return OTHER_OPERATION
    this.seen.add(name)
    return name
  }
}

export class GatewayMetrics {
  readonly registry = new Registry()
  readonly operationNames: OperationNames

  readonly operations = new Counter({
    name: 'graphql_operations_total',
    help: 'GraphQL operations finished, by type, name (bounded) and outcome (ok, or the first error code).',
    labelNames: ['operation_type', 'operation_name', 'outcome'] as const,
    registers: [this.registry]
  })

  readonly operationDuration = new Histogram({
    name: 'graphql_operation_duration_seconds',
    help: 'Time from a query or mutation arriving to its answer (subscriptions are not timed: they last as long as their client).',
    labelNames: ['operation_type', 'operation_name'] as const,
    buckets: OPERATION_BUCKETS,
    registers: [this.registry]
  })

  readonly restRequests = new Counter({
    name: 'rest_requests_total',
    help: 'REST /v1 requests answered, by operation (the OpenAPI operationId) and HTTP status.',
    labelNames: ['operation', 'status'] as const,
    registers: [this.registry]
  })

  readonly restDuration = new Histogram({
    name: 'rest_request_duration_seconds',
    help: 'Time from a REST /v1 request arriving to its answer, by operation.',
    labelNames: ['operation'] as const,
    buckets: OPERATION_BUCKETS,
    registers: [this.registry]
  })

  readonly queriesRejected = new Counter({
    name: 'queries_rejected_total',
    help: 'Documents refused before or while running, by reason: syntax, validation, depth, fields, tokens, cost, calls.',
    labelNames: ['reason'] as const,
    registers: [this.registry]
  })

  readonly rateLimited = new Counter({
    name: 'rate_limited_total',
    help: 'Requests and operations refused by a rate or concurrency limit (answered RATE_LIMITED).',
    registers: [this.registry]
  })

  readonly upstreamRequests = new Counter({
    name: 'visual_layer_requests_total',
    help: 'HTTP requests sent to Visual Layer, by path template, method and status (or timeout, network_error, cancelled, too_large).',
    labelNames: ['endpoint', 'method', 'status'] as const,
    registers: [this.registry]
  })

  readonly upstreamDuration = new Histogram({
    name: 'visual_layer_request_duration_seconds',
    help: 'Duration of one HTTP request to Visual Layer, by path template and method.',
    labelNames: ['endpoint', 'method'] as const,
    buckets: UPSTREAM_BUCKETS,
    registers: [this.registry]
  })

  readonly upstreamRetries = new Counter({
    name: 'visual_layer_retries_total',
    help: 'Requests to Visual Layer sent again after a network failure, 429, 502, 503 or 504.',
    labelNames: ['endpoint', 'method'] as const,
    registers: [this.registry]
  })

  readonly sharedReads = new Counter({
    name: 'visual_layer_shared_reads_total',
    help: 'Reads answered by an identical call already in flight, instead of a request of their own.',
    labelNames: ['endpoint'] as const,
    registers: [this.registry]
  })

  readonly breakerTransitions = new Counter({
    name: 'visual_layer_breaker_transitions_total',
    help: 'Changes of the circuit breaker in front of Visual Layer, by the state reached.',
    labelNames: ['to'] as const,
    registers: [this.registry]
  })

  readonly polls = new Counter({
    name: 'polls_total',
    help: 'Polls of Visual Layer behind subscriptions, by resource (dataset, tasks, task) and outcome (changed, unchanged, error).',
    labelNames: ['resource', 'outcome'] as const,
    registers: [this.registry]
  })

  readonly subscriptions = new Gauge({
    name: 'subscriptions',
    help: 'Subscriptions running now (WebSocket and SSE), by subscription field.',
    labelNames: ['operation'] as const,
    registers: [this.registry]
  })

  readonly redisTimeouts = new Counter({
    name: 'redis_timeouts_total',
    help: 'Waits for Redis that passed REDIS_COMMAND_TIMEOUT_MS (the feature fell back, and an outage started if none was under way).',
    registers: [this.registry]
  })

  /** What the scrape-time gauges read; each plugin registers its own. */
  private readonly sources = {
    breaker: (): BreakerState => 'closed',
    scopedBreakersOpen: (): number => 0,
    pollers: (): number => 0,
    leases: (): number => 0,
    redisDegraded: (): boolean => false,
    websocketConnections: [] as Array<() => number>
  }

  private lastBreaker: BreakerState = 'closed'

  constructor (maxOperationNames = 100) {
    this.operationNames = new OperationNames(maxOperationNames)
    const sources = this.sources
    /* eslint-disable no-new -- a collected gauge is only referenced by its registry */
    new Gauge({
      name: 'visual_layer_breaker_state',
      help: 'The circuit breaker in front of Visual Layer: 0 closed, 1 half-open (one probe allowed), 2 open (failing fast).',
      registers: [this.registry],
      collect () { this.set(BREAKER_VALUES[sources.breaker()]) }
    })
    new Gauge({
      name: 'visual_layer_scoped_breakers_open',
      help: 'Circuit breakers of one account and route that refuse that pair\'s calls now (the shared breaker refuses everyone\'s).',
      registers: [this.registry],
      collect () { this.set(sources.scopedBreakersOpen()) }
    })
    new Gauge({
      name: 'pollers',
      help: 'Pollers running now: one per watched resource and credential scope, however many subscribers it has.',
      registers: [this.registry],
      collect () { this.set(sources.pollers()) }
    })
    new Gauge({
      name: 'live_leases_held',
      help: 'Poll leases this replica holds on Redis (it polls those resources for the cluster); 0 without REDIS_URL.',
      registers: [this.registry],
      collect () { this.set(sources.leases()) }
    })
    new Gauge({
      name: 'redis_degraded',
      help: 'With REDIS_URL: 1 while Redis does not answer (stalled or unreachable) and each replica falls back on its own, else 0.',
      registers: [this.registry],
      collect () { this.set(sources.redisDegraded() ? 1 : 0) }
    })
    new Gauge({
      name: 'websocket_connections',
      help: 'WebSocket connections open now, acknowledged or not.',
      registers: [this.registry],
      collect () { this.set(sources.websocketConnections.reduce((sum, count) => sum + count(), 0)) }
    })
    /* eslint-enable no-new */
  }

  /** What the upstream client reports, turned into metrics. */
  readonly upstream: UpstreamObserver = {
    request: (endpoint, method, status, seconds) => {
      this.upstreamRequests.inc({ endpoint, method, status })
      this.upstreamDuration.observe({ endpoint, method }, seconds)
    },
    retry: (endpoint, method) => { this.upstreamRetries.inc({ endpoint, method }) },
    sharedRead: (endpoint) => { this.sharedReads.inc({ endpoint }) },
    breaker: (state) => {
      if (state === this.lastBreaker) return
      this.lastBreaker = state
      this.breakerTransitions.inc({ to: state.replace('-', '_') })
    }
  }

  readonly poll = (resource: string, outcome: PollOutcome): void => { this.polls.inc({ resource, outcome }) }

  watchBreaker (state: () => BreakerState, scopedOpen: () => number = () => 0): void {
    this.sources.breaker = state
    this.sources.scopedBreakersOpen = scopedOpen
  }

  watchPollers (count: () => number): void { this.sources.pollers = count }
  watchLeases (count: () => number): void { this.sources.leases = count }
  watchRedis (degraded: () => boolean): void { this.sources.redisDegraded = degraded }
  watchWebSocketConnections (count: () => number): void { this.sources.websocketConnections.push(count) }
}

/**
 * The `subscriptions` gauge, by subscription field, whichever door runs them: each field's
 * `subscribe` is wrapped so that its stream counts from when it starts until it ends or is returned.
 * A plain iterator rather than an async generator: a generator's `return()` would wait for a pending
 * `next()`, and a subscription left by its client would stay counted (and its poller running) until
 * the next event.
 */
export function countSubscriptions (schema: GraphQLSchema, metrics: GatewayMetrics): void {
  for (const field of Object.values(schema.getSubscriptionType()?.getFields() ?? {})) {
    const subscribe = field.subscribe
    if (subscribe === undefined) continue
    const labels = { operation: field.name }
    field.subscribe = async (...args) => {
      const result: unknown = await subscribe(...args)
      if (typeof result !== 'object' || result === null || !(Symbol.asyncIterator in result)) return result
      const inner = (result as AsyncIterable<unknown>)[Symbol.asyncIterator]()
      metrics.subscriptions.inc(labels)
      let counted = true
      const end = (): void => {
        if (!counted) return
        counted = false
        metrics.subscriptions.dec(labels)
      }
      const iterator: AsyncIterableIterator<unknown> = {
        next: async () => {
          try {
            const step = await inner.next()
            if (step.done === true) end()
            return step
          } catch (err) {
            end()
            throw err
          }
        },
        return: async (value?: unknown) => {
          end()
          return await (inner.return?.(value) ?? Promise.resolve({ done: true as const, value }))
        },
        throw: async (err?: unknown) => {
          end()
          if (inner.throw !== undefined) return await inner.throw(err)
          throw err
        },
        [Symbol.asyncIterator] () { return iterator }
      }
      return iterator
    }
  }
}

export interface MetricsPluginOptions {
  /** Port of the /metrics listener; null: none. */
  port: number | null
  host: string
  /** Distinct operation names that get a label of their own (METRICS_MAX_OPERATION_NAMES; default 100). */
  maxOperationNames?: number
  /** The bearer token a scrape must send (METRICS_TOKEN); null or absent: none asked. */
  token?: string | null
}

/** Whether the request carries `Authorization: Bearer <token>`; compared in constant time (digests of equal length). */
function carries (req: IncomingMessage, token: string): boolean {
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest()
  return timingSafeEqual(digest(req.headers.authorization ?? ''), digest(`Bearer ${token}`))
}

const metricsPlugin: FastifyPluginAsync<MetricsPluginOptions> = async (app, { port, host, maxOperationNames, token = null }) => {
  const metrics = new GatewayMetrics(maxOperationNames)
  app.decorate('metrics', metrics)
  if (port === null) return

  collectDefaultMetrics({ register: metrics.registry })
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found: metrics are at GET /metrics\n')
      return
    }
    if (token !== null && !carries(req, token)) {
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer realm="metrics"' })
        .end('Unauthorized: this metrics listener needs Authorization: Bearer <METRICS_TOKEN>.\n')
      return
    }
    metrics.registry.metrics().then(
      (text) => { res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text) },
      (err: unknown) => {
        app.log.error({ err }, 'collecting metrics failed')
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('Collecting metrics failed; see the gateway log.\n')
      }
    )
  })
  // Started with the app (listen calls ready), so that a port in use stops start-up; never by buildApp alone.
  app.addHook('onReady', async () => {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => { server.off('error', reject); resolve() })
    })
    const address = server.address()
    app.log.info({ metrics: typeof address === 'object' && address !== null ? `http://${host}:${address.port}/metrics` : address }, 'serving Prometheus metrics')
  })
  app.addHook('onClose', async () => {
    if (!server.listening) return
    server.closeAllConnections()
    await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
  })
  app.decorate('metricsServer', server)
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The /metrics listener, when METRICS_PORT is set (tests read its port). */
    metricsServer?: Server
  }
}

export default fp(metricsPlugin, { name: 'metrics' })
