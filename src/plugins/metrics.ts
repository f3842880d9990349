import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import type { GraphQLSchema } from 'graphql'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { PollOutcome } from '../domain/live/poller.js'
import type { BreakerState } from '../upstream/circuit-breaker.js'
import type { UpstreamObserver } from '../upstream/observer.js'

/*
 * Prometheus metrics (`app.metrics`), with prom-client. One Registry per app, never prom-client's
 * global one: tests start many gateways in one process, and each counts only its own traffic. The
 * upstream client and the pollers report through observer interfaces they are given (no import of
 * this layer from below); gauges of things that exist (sockets, streams, pollers, the breaker) are
 * read at scrape time from sources the plugins register. With METRICS_PORT set, GET /metrics is
 * served on that port by a plain node:http server, apart from the API, with the process' default
 * metrics; unset, nothing listens and the counters only cost their increments. With
 * OTEL_EXPORTER_OTLP_ENDPOINT set, the same registry is also exported over OTLP (src/otlp-metrics.ts).
 *
 * Names: where OpenTelemetry's semantic conventions define the metric (HTTP server and client
 * durations), its name and attributes as Prometheus spells them (`http.server.request.duration` in
 * seconds: `http_server_request_duration_seconds`, `http.route`: `http_route`); every other metric is
 * the gateway's own, under one prefix, PREFIX, so that none collides with another service's
 * `subscriptions` or `polls_total` in a shared Prometheus.
 */

/** The prefix of the gateway's own metrics: Visual Layer GateWay, short, and taken by no exporter we know of. */
export const PREFIX = 'vlgw_'

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

/**
 * The door an operation comes through: GraphQL over HTTP, WebSocket, SSE, REST /v1, or another door
 * on the operation pipeline. Each door names itself in code, never from a request: a bounded label.
 */
export type OperationTransport = 'http' | 'websocket' | 'sse' | 'rest' | (string & {})

/** The HTTP methods the conventions name; any other is `_OTHER`, so that a caller cannot grow the label set. */
const METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'])
export function methodLabel (method: string): string {
  return METHODS.has(method) ? method : '_OTHER'
}

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

/** One finished operation, as the metrics count it. */
export interface FinishedOperation {
  transport: OperationTransport
  /** query, mutation, subscription, or unknown (a document refused before its operation was known). */
  type: string
  /** The label already bounded (OperationNames for GraphQL, the OpenAPI operationId for REST). */
  name: string
  /** ok, or the first error code. */
  outcome: string
  seconds: number
}

export class GatewayMetrics {
  readonly registry = new Registry()
  readonly operationNames: OperationNames

  readonly operations = new Counter({
    name: `${PREFIX}operations_total`,
    help: 'Operations finished, by transport (http, websocket, sse, rest), type, name (bounded; REST: the OpenAPI operationId) and outcome (ok, or the first error code).',
    labelNames: ['transport', 'operation_type', 'operation_name', 'outcome'] as const,
    registers: [this.registry]
  })

  readonly operationDuration = new Histogram({
    name: `${PREFIX}operation_duration_seconds`,
    help: 'Time from a query or mutation arriving to its answer, by transport (subscriptions are not timed: they last as long as their client).',
    labelNames: ['transport', 'operation_type', 'operation_name'] as const,
    buckets: OPERATION_BUCKETS,
    registers: [this.registry]
  })

  readonly httpServerDuration = new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'Duration of HTTP requests to the gateway\'s API port, every door (OpenTelemetry http.server.request.duration): method, route template, status code.',
    labelNames: ['http_request_method', 'http_route', 'http_response_status_code'] as const,
    buckets: OPERATION_BUCKETS,
    registers: [this.registry]
  })

  readonly queriesRejected = new Counter({
    name: `${PREFIX}queries_rejected_total`,
    help: 'Documents refused before or while running, by reason: syntax, validation, depth, fields, tokens, cost, calls.',
    labelNames: ['reason'] as const,
    registers: [this.registry]
  })

  readonly rateLimited = new Counter({
    name: `${PREFIX}rate_limited_total`,
    help: 'Requests and operations refused by a rate or concurrency limit (answered RATE_LIMITED).',
    registers: [this.registry]
  })

  readonly httpClientDuration = new Histogram({
    name: 'http_client_request_duration_seconds',
    help: 'Duration of HTTP requests to Visual Layer (OpenTelemetry http.client.request.duration): method, path template, host, status code when one came, error type when it failed (the status code, timeout, cancelled, response_too_large, or the network error\'s code).',
    labelNames: ['http_request_method', 'url_template', 'server_address', 'http_response_status_code', 'error_type'] as const,
    buckets: UPSTREAM_BUCKETS,
    registers: [this.registry]
  })

  readonly upstreamRetries = new Counter({
    name: `${PREFIX}upstream_retries_total`,
    help: 'Requests to Visual Layer sent again after a network failure, 429, 502, 503 or 504.',
    labelNames: ['http_request_method', 'url_template'] as const,
    registers: [this.registry]
  })

  readonly sharedReads = new Counter({
    name: `${PREFIX}upstream_shared_reads_total`,
    help: 'Reads of Visual Layer answered by an identical call already in flight, instead of a request of their own.',
    labelNames: ['url_template'] as const,
    registers: [this.registry]
  })

  readonly breakerTransitions = new Counter({
    name: `${PREFIX}upstream_breaker_transitions_total`,
    help: 'Changes of the circuit breaker in front of Visual Layer, by the state reached.',
    labelNames: ['to'] as const,
    registers: [this.registry]
  })

  readonly polls = new Counter({
    name: `${PREFIX}live_polls_total`,
    help: 'Polls of Visual Layer behind subscriptions, event streams and webhooks, by resource (dataset, tasks, task; datasets and account-tasks: the account\'s lists) and outcome (changed, unchanged, error).',
    labelNames: ['resource', 'outcome'] as const,
    registers: [this.registry]
  })

  readonly subscriptions = new Gauge({
    name: `${PREFIX}subscriptions`,
    help: 'GraphQL subscriptions running now (WebSocket and SSE), by subscription field.',
    labelNames: ['operation'] as const,
    registers: [this.registry]
  })

  readonly redisTimeouts = new Counter({
    name: `${PREFIX}redis_timeouts_total`,
    help: 'Waits for Redis that passed REDIS_COMMAND_TIMEOUT_MS (the feature fell back, and an outage started if none was under way).',
    registers: [this.registry]
  })

  readonly webhookDeliveries = new Counter({
    name: `${PREFIX}webhook_deliveries_total`,
    help: 'Webhook delivery attempts, by outcome (delivered, retry, failed: the schedule is spent, gone: 410 disabled the webhook) and attempt number.',
    labelNames: ['outcome', 'attempt'] as const,
    registers: [this.registry]
  })

  readonly webhookDropped = new Counter({
    name: `${PREFIX}webhook_events_dropped_total`,
    help: 'Webhook deliveries not queued because WEBHOOKS_MAX_PENDING were pending already (or Redis was down that long).',
    registers: [this.registry]
  })

  readonly responseCache = new Counter({
    name: `${PREFIX}response_cache_answers_total`,
    help: 'GraphQL queries over HTTP the response cache (RESPONSE_CACHE_TTL_MS) looked up: hit (a kept answer, nothing executed), miss (executed, or answered by an identical query in flight), kept (an answer kept).',
    labelNames: ['result'] as const,
    registers: [this.registry]
  })

  readonly webhookAttempt = (outcome: string, attempt: number): void => {
    this.webhookDeliveries.inc({ outcome, attempt: String(attempt) })
  }

  /** What the scrape-time gauges read; each plugin registers its own. */
  private readonly sources = {
    breaker: (): BreakerState => 'closed',
    scopedBreakersOpen: (): number => 0,
    pollers: (): number => 0,
    leases: (): number => 0,
    responseCacheBytes: (): number => 0,
    shedding: (): boolean => false,
    websocketConnections: [] as Array<() => number>,
    sseStreams: new Map<string, Array<() => number>>([['graphql', []], ['rest', []]])
  }

  private lastBreaker: BreakerState = 'closed'

  constructor (maxOperationNames = 100) {
    this.operationNames = new OperationNames(maxOperationNames)
    const sources = this.sources
    /* eslint-disable no-new -- a collected gauge is only referenced by its registry */
    new Gauge({
      name: `${PREFIX}upstream_breaker_state`,
      help: 'The circuit breaker in front of Visual Layer: 0 closed, 1 half-open (one probe allowed), 2 open (failing fast).',
      registers: [this.registry],
      collect () { this.set(BREAKER_VALUES[sources.breaker()]) }
    })
    new Gauge({
      name: `${PREFIX}upstream_scoped_breakers_open`,
      help: 'Circuit breakers of one account and route that refuse that pair\'s calls now (the shared breaker refuses everyone\'s).',
      registers: [this.registry],
      collect () { this.set(sources.scopedBreakersOpen()) }
    })
    new Gauge({
      name: `${PREFIX}live_pollers`,
      help: 'Pollers running now: one per watched resource and credential scope, however many subscribers it has.',
      registers: [this.registry],
      collect () { this.set(sources.pollers()) }
    })
    new Gauge({
      name: `${PREFIX}live_leases_held`,
      help: 'Poll leases this replica holds on Redis (it polls those resources for the cluster); 0 without REDIS_URL.',
      registers: [this.registry],
      collect () { this.set(sources.leases()) }
    })
    new Gauge({
      name: `${PREFIX}response_cache_bytes`,
      help: 'Bytes the response cache\'s kept answers take, about (at most RESPONSE_CACHE_MAX_BYTES); 0 with the cache off.',
      registers: [this.registry],
      collect () { this.set(sources.responseCacheBytes()) }
    })
    new Gauge({
      name: `${PREFIX}load_shedding`,
      help: '1 while the gateway sheds load (event loop delay or heap past LOAD_SHED_*: new requests get 503), else 0.',
      registers: [this.registry],
      collect () { this.set(sources.shedding() ? 1 : 0) }
    })
    new Gauge({
      name: `${PREFIX}websocket_connections`,
      help: 'WebSocket connections open now, acknowledged or not.',
      registers: [this.registry],
      collect () { this.set(sources.websocketConnections.reduce((sum, count) => sum + count(), 0)) }
    })
    new Gauge({
      name: `${PREFIX}sse_streams`,
      help: 'Server-sent event streams open now, by API: graphql (/graphql/stream) or rest (/v1 event streams).',
      labelNames: ['api'] as const,
      registers: [this.registry],
      collect () {
        for (const [api, counts] of sources.sseStreams) this.set({ api }, counts.reduce((sum, count) => sum + count(), 0))
      }
    })
    /* eslint-enable no-new */
  }

  /** One finished operation: its count by outcome, and its duration (not a subscription's). */
  operation ({ transport, type, name, outcome, seconds }: FinishedOperation): void {
    const labels = { transport, operation_type: type, operation_name: name }
    this.operations.inc({ ...labels, outcome })
    if (type !== 'subscription') this.operationDuration.observe(labels, seconds)
  }

  /** What the upstream client reports, turned into metrics; `serverAddress` is Visual Layer's host. */
  upstreamObserver (serverAddress: string): UpstreamObserver {
    return {
      request: (endpoint, method, { status, error }, seconds) => {
        this.httpClientDuration.observe({
          http_request_method: methodLabel(method),
          url_template: endpoint,
          server_address: serverAddress,
          // An empty label is no label to Prometheus: a request with no answer has no status code, a success no error.
          http_response_status_code: status === null ? '' : String(status),
          error_type: error ?? ''
        }, seconds)
      },
      retry: (endpoint, method) => { this.upstreamRetries.inc({ http_request_method: methodLabel(method), url_template: endpoint }) },
      sharedRead: (endpoint) => { this.sharedReads.inc({ url_template: endpoint }) },
      breaker: (state) => {
        if (state === this.lastBreaker) return
        this.lastBreaker = state
        this.breakerTransitions.inc({ to: state.replace('-', '_') })
      }
    }
  }

  readonly poll = (resource: string, outcome: PollOutcome): void => { this.polls.inc({ resource, outcome }) }

  watchBreaker (state: () => BreakerState, scopedOpen: () => number = () => 0): void {
    this.sources.breaker = state
    this.sources.scopedBreakersOpen = scopedOpen
  }

  watchPollers (count: () => number): void { this.sources.pollers = count }
  watchLeases (count: () => number): void { this.sources.leases = count }
  watchResponseCache (bytes: () => number): void { this.sources.responseCacheBytes = bytes }
  watchShedding (shedding: () => boolean): void { this.sources.shedding = shedding }
  watchWebSocketConnections (count: () => number): void { this.sources.websocketConnections.push(count) }
  watchSseStreams (api: 'graphql' | 'rest', count: () => number): void { this.sources.sseStreams.get(api)?.push(count) }

  /** With webhooks (jwt and none modes): the queue's depth and age, and the disabled webhooks, read at scrape time. */
  watchWebhooks (read: () => Promise<{ pending: number, oldestAgeMs: number | null, disabled: number }>): void {
    let last: Promise<{ pending: number, oldestAgeMs: number | null, disabled: number }> | null = null
    // One read of the store per scrape, whichever gauge asks first.
    const once = async (): Promise<{ pending: number, oldestAgeMs: number | null, disabled: number }> => {
      last ??= read().finally(() => { setImmediate(() => { last = null }) })
      return await last
    }
    /* eslint-disable no-new -- a collected gauge is only referenced by its registry */
    new Gauge({
      name: `${PREFIX}webhook_queue_depth`,
      help: 'Webhook deliveries pending (queued or waiting to be tried again), over the cluster with REDIS_URL.',
      registers: [this.registry],
      async collect () { this.set((await once()).pending) }
    })
    new Gauge({
      name: `${PREFIX}webhook_oldest_pending_seconds`,
      help: 'Age of the oldest pending webhook delivery, in seconds (0 when none is pending).',
      registers: [this.registry],
      async collect () { this.set(((await once()).oldestAgeMs ?? 0) / 1000) }
    })
    new Gauge({
      name: `${PREFIX}webhooks_disabled`,
      help: 'Webhooks disabled (410 Gone, failing for WEBHOOKS_DISABLE_AFTER_MS, or by their owner).',
      registers: [this.registry],
      async collect () { this.set((await once()).disabled) }
    })
    /* eslint-enable no-new */
  }

  /** With REDIS_URL only: the reachability gauge exists where there is a Redis to reach. */
  watchRedis (degraded: () => boolean): void {
    // eslint-disable-next-line no-new -- a collected gauge is only referenced by its registry
    new Gauge({
      name: `${PREFIX}redis_up`,
      help: 'With REDIS_URL: 1 while Redis answers, 0 while it does not (stalled or unreachable: each replica falls back on its own).',
      registers: [this.registry],
      collect () { this.set(degraded() ? 0 : 1) }
    })
  }
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
  // Every request of every door, timed until its response ends or its client leaves: the socket's
  // close, not Fastify's onResponse, which a hijacked reply (an SSE stream) never reaches. Registered
  // before load shedding, so that a shed request (refused in an earlier onRequest hook) is counted too.
  app.addHook('onRequest', async (request, reply) => {
    reply.raw.once('close', () => {
      metrics.httpServerDuration.observe({
        http_request_method: methodLabel(request.method),
        // The route's template (`/v1/datasets/:id`), never the path: a path not routed has none.
        http_route: request.routeOptions.url ?? '',
        // A client that left before the headers went has no status code.
        http_response_status_code: reply.raw.headersSent ? String(reply.raw.statusCode) : ''
      }, reply.elapsedTime / 1000)
    })
  })
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
