import { isIP } from 'node:net'
import proxyAddr from '@fastify/proxy-addr'
import { z } from 'zod'

/*
 * Every setting of the gateway, read from the environment once, validated with zod and frozen.
 * A bad value never starts a half-configured gateway: `loadConfig` throws a ConfigError that names
 * every bad variable and what it accepts. About 300 lines in one file on purpose: the table of
 * variables, the settings type and the cross-checks between variables change together.
 */

const AUTH_MODES = ['none', 'passthrough', 'jwt'] as const
export type AuthMode = (typeof AUTH_MODES)[number]

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

export interface JwtSettings {
  readonly secret: string | null
  readonly publicKey: string | null
  readonly jwksUrl: string | null
  readonly issuer: string | null
  readonly audience: string | null
  readonly clockToleranceSec: number
  /** Longest lifetime a token may have: exp - iat, or exp - now when it has no iat. */
  readonly maxAgeSec: number
}

/**
 * Which proxies in front of the gateway are trusted to say who the client is (X-Forwarded-For):
 * none (false), all (true), the nearest `n` hops, or those at these addresses or CIDR ranges.
 */
export type TrustProxy = boolean | number | readonly string[]

/** How the gateway talks to Visual Layer, whichever Visual Layer it is. */
export interface UpstreamSettings {
  /** Overall deadline of one upstream call, connect to last byte. */
  readonly timeoutMs: number
  readonly connectTimeoutMs: number
  readonly maxResponseBytes: number
  readonly connections: number
  /** Most upstream GETs one GraphQL request runs at once (Visual Layer has no batch endpoints). */
  readonly batchConcurrency: number
  /** How long a dataset's model list is reused (0: never). Dataset status is never cached. */
  readonly modelCacheTtlMs: number
  /** Retries of an idempotent GET on network errors, 429, 502, 503, 504 (POSTs are never retried). */
  readonly retries: number
  /** Failures in a row after which calls fail fast for breakerCooldownMs. */
  readonly breakerThreshold: number
  readonly breakerCooldownMs: number
  /** Most (account, route) breakers kept (src/upstream/breakers.ts). */
  readonly breakerMaxScoped: number
  /** Accounts the failures in a row must span before the shared breaker refuses every call. */
  readonly breakerSpreadPrincipals: number
  /** Most requests one GraphQL operation (or one subscription event) may send to Visual Layer. */
  readonly maxCallsPerOperation: number
}

/** A Visual Layer at a known URL: VL_BASE_URL, or the embedded emulator once the entry point started it. */
export interface RemoteUpstream extends UpstreamSettings {
  readonly kind: 'remote'
  /** Without a trailing slash. */
  readonly baseUrl: string
  /** Service account; null in passthrough mode against a real Visual Layer. */
  readonly apiKey: string | null
  readonly apiSecret: string | null
}

/** No VL_BASE_URL: only the entry point (src/start.ts) knows how to start the emulator and make it remote. */
export interface EmbeddedUpstream extends UpstreamSettings {
  readonly kind: 'embedded'
}

export type UpstreamConfig = RemoteUpstream | EmbeddedUpstream

/** The gateway's settings; `buildApp` takes them with a remote upstream (`Config<RemoteUpstream>`). */
export interface Config<Upstream extends UpstreamConfig = UpstreamConfig> {
  readonly port: number
  readonly host: string
  readonly logLevel: LogLevel
  readonly authMode: AuthMode
  readonly jwt: JwtSettings
  readonly upstream: Upstream
  /** How long the result of the readiness check of Visual Layer is reused. */
  readonly readyCacheMs: number
  /** Longest time a graceful shutdown may take before the process exits anyway. */
  readonly shutdownTimeoutMs: number
  readonly graphiql: boolean
  /** Deepest selection a document may have (GraphQL over HTTP, WebSocket and SSE alike). */
  readonly maxQueryDepth: number
  /** Most fields a document may select, fragments counted where spread. */
  readonly maxQueryFields: number
  /** Most lexical tokens a document may have; checked while parsing, before any rule runs. */
  readonly maxQueryTokens: number
  /** Most aliased fields a document may select, fragments counted where spread. */
  readonly maxQueryAliases: number
  /** Most directives a document may use, fragments counted where spread. */
  readonly maxQueryDirectives: number
  /** Most Visual Layer calls an operation may cost at worst, computed before it runs (src/graphql/cost.ts). */
  readonly maxQueryCost: number
  /** Validation errors a refusal reports before validation stops (each costs CPU: graphql looks for close names). */
  readonly maxValidationErrors: number
  /** Cost checks remembered (src/graphql/cost.ts): bytes in all, and the largest kept (its key holds the variables). */
  readonly costCache: { readonly maxBytes: number, readonly maxEntryBytes: number }
  /** GraphQL over HTTP answers kept `ttlMs` (0: none), `maxBytes` in all, none over `maxEntryBytes` (graphql-http/response-cache.ts). */
  readonly responseCache: { readonly ttlMs: number, readonly maxBytes: number, readonly maxEntryBytes: number }
  /**
   * Passthrough: requests per minute with tokens Visual Layer has not accepted yet, per address, or per
   * API key once one of its tokens was accepted (callerKey in src/auth/index.ts); 0: counted as requests.
   */
  readonly rateLimitUnprovenPerMinute: number
  /** Distinct operation names that get a metric label of their own (src/plugins/metrics.ts); beyond: "(other)". */
  readonly metricsMaxOperationNames: number
  /** The bearer token a scrape of /metrics must send; null: none asked (keep the port private instead). */
  readonly metricsToken: string | null
  /** Whether __schema and __type may be queried; when false, validation messages carry no field suggestions either. */
  readonly introspection: boolean
  /** How long enrichDataset answers a repeated idempotencyKey with its first result. */
  readonly idempotencyWindowMs: number
  /** Requests to /graphql per minute for each caller; 0: no limit. */
  readonly rateLimitPerMinute: number
  /** Of those, mutation requests per minute for each caller; 0: no limit of their own. */
  readonly rateLimitMutationsPerMinute: number
  readonly trustProxy: TrustProxy
  /** Load shedding: new requests get 503 while the event loop lags or the heap is fuller than this (0: not checked). */
  readonly loadShedding: LoadShedding
  /** Browser origins allowed to call /graphql from another origin (CORS); empty: none. */
  readonly corsOrigins: readonly string[]
  /** Request headers allowed from those origins besides the gateway's own list (lower case). */
  readonly corsAllowedHeaders: readonly string[]
  /** A WebSocket that sends no connection_init within this time is closed (4408). */
  readonly wsInitTimeoutMs: number
  /** Sockets that have not sent connection_init yet, per client address and in all. */
  readonly wsMaxPendingPerAddress: number
  readonly wsMaxPending: number
  /** Passthrough: sockets whose token Visual Layer has not accepted yet, per client address. */
  readonly wsMaxUnprovenPerAddress: number
  /** What one WebSocket may cost: bytes queued for it, bytes before its ack, messages and operations a second. */
  readonly wsLimits: WsLimits
  readonly live: LiveSettings
  /** `@live` queries (src/graphql/live-queries.ts). */
  readonly liveQueries: LiveQuerySettings
  /** Port of the Prometheus /metrics listener (on `host`, apart from the API); null: no listener. */
  readonly metricsPort: number | null
  readonly tracing: TracingSettings
  readonly redis: RedisSettings
  /** The manifest of trusted documents (src/graphql/trusted-documents.ts), read by the graph at start-up. */
  readonly trustedDocuments: TrustedDocumentsSettings
  /** Bounds of the HTTP doors on what a client sends and leaves unread (docs/security.md lists every bound). */
  readonly http: HttpLimits
  readonly webhooks: WebhookConfig
}

/** Webhooks for partner services (docs/webhooks.md). */
export interface WebhookConfig {
  readonly maxPerCaller: number
  /** Delays (ms) before each retry of a delivery; the delivery failed after the last. */
  readonly retrySchedule: readonly number[]
  readonly attemptTimeoutMs: number
  readonly disableAfterMs: number
  readonly maxInFlightPerTarget: number
  readonly maxPending: number
  readonly maxResponseBytes: number
  readonly allowPrivateTargets: readonly string[]
}

/** Deadlines and sizes the HTTP server and its streaming doors hold each client to. */
export interface HttpLimits {
  /** A request's headers must arrive within this time of its start (Node's headersTimeout). */
  readonly headersTimeoutMs: number
  /** A request's headers and body must arrive within this time of its start (Node's requestTimeout); answers may take longer. */
  readonly requestTimeoutMs: number
  /** An idle keep-alive socket is closed after this time. */
  readonly keepAliveTimeoutMs: number
  /** REST event streams (/v1/datasets/{id}/events) one caller may hold at once. */
  readonly maxRestStreamsPerCaller: number
  /** Bytes an event stream (SSE, REST events) may hold unsent for a client that does not read; beyond them the stream ends. */
  readonly maxStreamBufferedBytes: number
}

export interface TrustedDocumentsSettings {
  /** Path of the manifest (the client preset's persisted documents JSON); null: none. */
  readonly path: string | null
  /** Refuse every document that is not in the manifest. */
  readonly only: boolean
  /** With `only`: still let through documents that only introspect the schema. */
  readonly allowIntrospection: boolean
}

/** Shared state of several replicas (src/cluster/); a null url keeps everything in process. */
export interface RedisSettings {
  /** redis:// or rediss:// (TLS), with the password in the URL when it needs one. */
  readonly url: string | null
  /** Prepended to every key and channel the gateway uses, so that several gateways (or tests) share one Redis apart. */
  readonly keyPrefix: string
  /** How often a replica renews what it holds in Redis (connection slots, claimed idempotency keys); a dead replica's expires after three beats. */
  readonly heartbeatMs: number
  /** The longest any wait for Redis lasts (a command, a subscription, a ping) before the feature falls back. */
  readonly commandTimeoutMs: number
  /** The longest a request's own count (rate-limit window, connection slot) waits for Redis before counting in this replica; at most commandTimeoutMs. */
  readonly requestTimeoutMs: number
}

/** OpenTelemetry traces, exported over OTLP (http/protobuf) when an endpoint is set. */
export interface TracingSettings {
  /** The collector's OTLP base URL (spans go to `<endpoint>/v1/traces`, metrics to `<endpoint>/v1/metrics`); null: both off. */
  readonly endpoint: string | null
  readonly serviceName: string
}

export interface LoadShedding {
  readonly maxEventLoopDelayMs: number
  readonly maxHeapUsedBytes: number
  /** The Retry-After of a shed request, in seconds. */
  readonly retryAfterSec: number
}

export interface LiveSettings {
  /** How often a poller asks Visual Layer (with jitter), per watched resource and credential scope, while the resource is in motion. */
  readonly pollIntervalMs: number
  /** The longest interval of a settled resource's poller (at least pollIntervalMs): the delay a change made outside the gateway can take to show. */
  readonly pollMaxIntervalMs: number
  /** Ceiling on upstream polls per second for the whole gateway, shared fairly between pollers. */
  readonly maxPollsPerSecond: number
  readonly maxSubscriptionsPerConnection: number
  readonly maxConnectionsPerCaller: number
  /** Concurrent SSE event streams (either graphql-sse mode) one caller may hold. */
  readonly maxStreamsPerCaller: number
}

export interface LiveQuerySettings {
  /** Upstream resources (a dataset, a dataset's task list) one live query may watch. */
  readonly maxResources: number
  /** Live queries one caller may hold open, over every replica with Redis. */
  readonly perCaller: number
}

/** Bounds on one WebSocket connection (src/transports/websocket/socket-limits.ts), whatever its caller. */
export interface WsLimits {
  /** Bytes the gateway queues for a client that reads too slowly; past it the socket is closed (1013). */
  readonly maxBufferedBytes: number
  /** Bytes a socket may send before its connection_init is acknowledged (1009). */
  readonly maxInitBytes: number
  /** Largest WebSocket message read, refused (1009) as soon as its frame header announces more. */
  readonly maxMessageBytes: number
  /** How long a socket the gateway closed waits for the client's close frame before it is dropped. */
  readonly closeTimeoutMs: number
  /** Largest ping payload echoed in a pong, as JSON (1009). */
  readonly maxPingPayloadBytes: number
  /** Messages (any kind, WebSocket pings and pongs too) a socket may send: a token bucket (1008). */
  readonly messagesPerSecond: number
  readonly messageBurst: number
  /** Bytes of messages a socket may send after its ack: a token bucket whose burst holds a whole 1 MiB message (1008). */
  readonly receivedBytesPerSecond: number
  readonly receivedBytesBurst: number
  /** Operations (subscribe messages) a connection may start: a token bucket (RATE_LIMITED for that id). */
  readonly subscribesPerSecond: number
  readonly subscribeBurst: number
  /** Longest operation id a subscribe may carry (4400). */
  readonly maxOperationIdLength: number
}

export class ConfigError extends Error {
  readonly problems: readonly string[]
  constructor (problems: string[]) {
    super(`Invalid configuration, the gateway did not start:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

type Env = Record<string, string | undefined>

/** One environment variable: how to parse it and, for the error message, what it accepts. */
interface Variable<T> {
  schema: z.ZodType<T>
  accepts: string
  /** Secrets are never echoed in error messages. */
  secret?: boolean
}

const int = (min: number, max: number, fallback: number): Variable<number> => ({
  schema: z.string().trim().regex(/^\d+$/).transform(Number).pipe(z.number().int().min(min).max(max)).optional().transform((v) => v ?? fallback),
  accepts: `an integer from ${min} to ${max} (default ${fallback})`
})

const optionalText = (accepts: string, secret = false): Variable<string | null> => ({
  schema: z.string().min(1).optional().transform((v) => v ?? null),
  accepts,
  secret
})

const httpUrl = (accepts: string): Variable<string | null> => ({
  schema: z.string().trim().optional().transform((v) => (v === '' || v === undefined ? null : v)).pipe(
    z.string().refine((v) => {
      try {
        const url = new URL(v)
        return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === ''
      } catch {
        return false
      }
    }).transform((v) => v.replace(/\/+$/, '')).nullable()
  ),
  accepts
})

const oneOf = <T extends string>(values: readonly T[], fallback?: T): Variable<T | undefined> => ({
  schema: z.enum(values as unknown as [T, ...T[]]).optional().transform((v) => v ?? fallback),
  accepts: `one of ${values.join(', ')}${fallback === undefined ? '' : ` (default ${fallback})`}`
})

const bool = (fallback: boolean): Variable<boolean> => ({
  schema: z.enum(['true', 'false', '1', '0']).optional().transform((v) => (v === undefined ? fallback : v === 'true' || v === '1')),
  accepts: `true or false (default ${String(fallback)})`
})

/** false, true, a hop count, or a comma-separated list of addresses, CIDR ranges or proxy-addr's names (loopback...). */
const trustProxy: Variable<TrustProxy> = {
  schema: z.string().trim().optional().transform((v, ctx): TrustProxy => {
    if (v === undefined || v === 'false' || v === '0') return false
    if (v === 'true') return true
    if (/^\d+$/.test(v)) {
      const hops = Number(v)
      if (hops <= 100) return hops
    } else {
      const list = v.split(',').map((part) => part.trim()).filter((part) => part !== '')
      try {
        proxyAddr.compile(list)
        if (list.length > 0) return list
      } catch {}
    }
    ctx.addIssue({ code: 'custom', message: 'invalid' })
    return z.NEVER
  }),
  accepts: 'false, true, a number of hops from 1 to 100, or a comma-separated list of addresses and CIDR ranges such as 10.0.0.0/8,127.0.0.1 (default false)'
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }

/** A comma-separated list of durations such as 5s,5m,2h, each at most a week. */
const durations = (fallback: string): Variable<number[]> => ({
  schema: z.string().trim().optional().transform((v, ctx): number[] => {
    const parts = (v === undefined || v === '' ? fallback : v).split(',').map((part) => part.trim())
    const values = parts.map((part) => {
      const match = /^(\d{1,9})(ms|s|m|h)$/.exec(part)
      return match === null ? Number.NaN : Number(match[1]) * (DURATION_UNITS[match[2] ?? 'ms'] ?? 1)
    })
    if (parts.length > 20 || values.some((value) => !Number.isFinite(value) || value > 7 * 86_400_000)) {
      ctx.addIssue({ code: 'custom', message: 'invalid' })
      return z.NEVER
    }
    return values
  }),
  accepts: `a comma-separated list of at most 20 durations such as 5s,5m,30m,2h, each a number and ms, s, m or h, at most a week (default ${fallback})`
})

/** A comma-separated list of IP addresses and CIDR ranges. */
const addressList: Variable<string[]> = {
  schema: z.string().trim().optional().transform((v, ctx): string[] => {
    const list = (v ?? '').split(',').map((part) => part.trim()).filter((part) => part !== '')
    const bad = list.find((entry) => {
      const [address = '', prefix] = entry.split('/')
      const family = isIP(address)
      if (family === 0) return true
      return prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128))
    })
    if (bad !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'invalid' })
      return z.NEVER
    }
    return list
  }),
  accepts: 'a comma-separated list of IP addresses and CIDR ranges such as 127.0.0.1,10.0.0.0/8 (default: none)'
}

const VARIABLES = {
  PORT: int(0, 65535, 4000),
  HOST: {
    schema: z.string().trim().min(1).optional().transform((v) => v ?? '127.0.0.1'),
    accepts: 'a host name or IP address to listen on (default 127.0.0.1)'
  },
  LOG_LEVEL: oneOf(LOG_LEVELS, 'info'),
  AUTH_MODE: oneOf(AUTH_MODES),
  VL_BASE_URL: httpUrl('an http(s) URL without credentials, e.g. https://app.visual-layer.com (unset: run on the embedded emulator)'),
  VL_API_KEY: optionalText('a Visual Layer API key'),
  VL_API_SECRET: optionalText('a Visual Layer API secret', true),
  UPSTREAM_TIMEOUT_MS: int(100, 300_000, 10_000),
  UPSTREAM_CONNECT_TIMEOUT_MS: int(100, 60_000, 3_000),
  UPSTREAM_MAX_RESPONSE_BYTES: int(1024, 1024 * 1024 * 1024, 10 * 1024 * 1024),
  UPSTREAM_CONNECTIONS: int(1, 1024, 64),
  UPSTREAM_BATCH_CONCURRENCY: int(1, 256, 16),
  MODEL_CACHE_TTL_MS: int(0, 86_400_000, 60_000),
  UPSTREAM_RETRIES: int(0, 5, 2),
  BREAKER_THRESHOLD: int(1, 1_000_000, 5),
  BREAKER_COOLDOWN_MS: int(100, 600_000, 5_000),
  // The task manager page at its largest (50 tasks, each with its dataset, plus the filter options)
  // sends 52 calls; 200 leaves room for richer pages and stops alias floods.
  MAX_UPSTREAM_CALLS_PER_OPERATION: int(1, 100_000, 200),
  IDEMPOTENCY_WINDOW_MS: int(1_000, 7 * 86_400_000, 86_400_000),
  WEBHOOKS_MAX_PER_CALLER: int(1, 10_000, 20),
  WEBHOOKS_RETRY_SCHEDULE: durations('5s,5m,30m,2h,5h,10h,10h'),
  WEBHOOKS_ATTEMPT_TIMEOUT_MS: int(100, 120_000, 10_000),
  WEBHOOKS_DISABLE_AFTER_MS: int(1_000, 30 * 86_400_000, 5 * 86_400_000),
  WEBHOOKS_MAX_IN_FLIGHT_PER_TARGET: int(1, 1_000, 4),
  WEBHOOKS_MAX_PENDING: int(1, 10_000_000, 100_000),
  WEBHOOKS_MAX_RESPONSE_BYTES: int(0, 1024 * 1024, 1024),
  WEBHOOKS_ALLOW_PRIVATE_TARGETS: addressList,
  READY_CACHE_MS: int(0, 600_000, 5_000),
  SHUTDOWN_TIMEOUT_MS: int(100, 600_000, 10_000),
  GRAPHIQL: bool(true),
  CORS_ORIGINS: {
    schema: z.string().optional().transform((v) => (v ?? '').split(',').map((o) => o.trim()).filter((o) => o !== '')).pipe(
      z.array(z.string().refine((o) => { try { return new URL(o).origin === o } catch { return false } }))
    ),
    accepts: 'a comma-separated list of origins such as https://app.example.com,http://localhost:5173 (default: none)'
  },
  CORS_ALLOWED_HEADERS: {
    schema: z.string().optional().transform((v) => (v ?? '').split(',').map((h) => h.trim().toLowerCase()).filter((h) => h !== '')).pipe(
      // A header name is an RFC 9110 token.
      z.array(z.string().regex(/^[!#$%&'*+.^_`|~0-9a-z-]+$/))
    ),
    accepts: 'a comma-separated list of request header names such as x-tenant-id,baggage, allowed besides the built-in ones (default: none)'
  },
  MAX_QUERY_DEPTH: int(2, 100, 10),
  MAX_QUERY_FIELDS: int(10, 100_000, 500),
  MAX_QUERY_TOKENS: int(500, 1_000_000, 3_000),
  MAX_QUERY_ALIASES: int(0, 10_000, 20),
  MAX_QUERY_DIRECTIVES: int(0, 10_000, 20),
  MAX_VALIDATION_ERRORS: int(1, 100, 10),
  // The example operations of docs/graphql.md and the task manager page at its largest cost at most 151 (the dashboard,
  // counting 50 datasets); 200 matches MAX_UPSTREAM_CALLS_PER_OPERATION's default.
  MAX_QUERY_COST: int(1, 1_000_000, 200),
  // Bounds of what one caller can make the gateway keep or refuse for others.
  // A remembered cost check is about 400 bytes with a dataset id as its variables: 4 MiB holds about 10,000.
  COST_CACHE_MAX_BYTES: int(64 * 1024, 1024 * 1024 * 1024, 4 * 1024 * 1024),
  COST_CACHE_MAX_ENTRY_BYTES: int(256, 1024 * 1024, 4 * 1024),
  // Off by default: a kept answer is up to a TTL old for changes no write through the gateway and no poller tells.
  RESPONSE_CACHE_TTL_MS: int(0, 60_000, 0),
  // The dashboard's answer with 50 datasets is about 40 KB: 16 MiB holds a few hundred answers of that size.
  RESPONSE_CACHE_MAX_BYTES: int(64 * 1024, 1024 * 1024 * 1024, 16 * 1024 * 1024),
  RESPONSE_CACHE_MAX_ENTRY_BYTES: int(1024, 64 * 1024 * 1024, 512 * 1024),
  // Each forged token costs Visual Layer one call (then it is refused here at no cost): 60 a minute per address.
  RATE_LIMIT_UNPROVEN_PER_MINUTE: int(0, 1_000_000, 60),
  // A breaker per (account, route) is about 200 bytes: 10,000 of them 2 MB.
  BREAKER_MAX_SCOPED: int(10, 1_000_000, 10_000),
  BREAKER_SPREAD_ACCOUNTS: int(1, 1_000, 2),
  // Each name is one more series per outcome of vlgw_operations_total and per bucket of the histogram.
  METRICS_MAX_OPERATION_NAMES: int(0, 10_000, 100),
  METRICS_TOKEN: {
    schema: z.string().trim().min(16).max(4096).regex(/^[\x21-\x7e]+$/).optional().transform((v) => v ?? null),
    accepts: 'at least 16 printable characters, no spaces: the bearer token a scrape of /metrics must send (default: unset, none asked)',
    secret: true
  },
  // Its default depends on VL_BASE_URL: on with the embedded emulator, off with a real Visual Layer.
  INTROSPECTION: {
    schema: z.enum(['true', 'false', '1', '0']).optional().transform((v) => (v === undefined ? undefined : v === 'true' || v === '1')),
    accepts: 'true or false (default true on the embedded emulator, false with VL_BASE_URL)'
  },
  RATE_LIMIT_PER_MINUTE: int(0, 1_000_000, 1_200),
  RATE_LIMIT_MUTATIONS_PER_MINUTE: int(0, 1_000_000, 60),
  TRUST_PROXY: trustProxy,
  LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: int(0, 60_000, 1_000),
  LOAD_SHED_MAX_HEAP_USED_BYTES: int(0, 1024 * 1024 * 1024 * 1024, 0),
  LOAD_SHED_RETRY_AFTER_SEC: int(1, 3_600, 10),
  WS_INIT_TIMEOUT_MS: int(100, 60_000, 3_000),
  WS_MAX_PENDING_PER_ADDRESS: int(1, 100_000, 20),
  WS_MAX_PENDING: int(1, 1_000_000, 1_000),
  WS_MAX_UNPROVEN_PER_ADDRESS: int(1, 100_000, 100),
  WS_MAX_BUFFERED_BYTES: int(1024, 1024 * 1024 * 1024, 1024 * 1024),
  WS_MAX_INIT_BYTES: int(256, 1024 * 1024, 16 * 1024),
  WS_MAX_MESSAGE_BYTES: int(16 * 1024, 64 * 1024 * 1024, 128 * 1024),
  WS_CLOSE_TIMEOUT_MS: int(100, 60_000, 2_000),
  WS_MAX_PING_PAYLOAD_BYTES: int(0, 1024 * 1024, 1024),
  WS_MESSAGES_PER_SECOND: int(1, 1_000_000, 100),
  WS_MESSAGE_BURST: int(1, 1_000_000, 250),
  WS_RECEIVED_BYTES_PER_SECOND: int(1024, 1024 * 1024 * 1024, 256 * 1024),
  // At least a whole message of 1 MiB, the largest ws reads (maxPayload): a full bucket always lets one through.
  WS_RECEIVED_BYTES_BURST: int(1024 * 1024, 1024 * 1024 * 1024, 2 * 1024 * 1024),
  WS_SUBSCRIBES_PER_SECOND: int(1, 1_000_000, 20),
  WS_SUBSCRIBE_BURST: int(1, 1_000_000, 100),
  WS_MAX_OPERATION_ID_LENGTH: int(1, 1024 * 1024, 128),
  POLL_INTERVAL_MS: int(250, 3_600_000, 2_000),
  POLL_MAX_INTERVAL_MS: int(250, 3_600_000, 30_000),
  MAX_POLLS_PER_SECOND: int(1, 10_000, 20),
  WS_MAX_SUBSCRIPTIONS: int(1, 10_000, 100),
  WS_MAX_CONNECTIONS_PER_CALLER: int(1, 10_000, 20),
  SSE_MAX_STREAMS_PER_CALLER: int(1, 10_000, 20),
  LIVE_QUERY_MAX_RESOURCES: int(1, 10_000, 50),
  LIVE_QUERIES_PER_CALLER: int(1, 100_000, 100),
  // HTTP bounds: deadlines on what a client sends, caps on what it holds or leaves unread.
  HTTP_HEADERS_TIMEOUT_MS: int(100, 600_000, 10_000),
  HTTP_REQUEST_TIMEOUT_MS: int(100, 3_600_000, 30_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: int(1_000, 600_000, 72_000),
  REST_MAX_STREAMS_PER_CALLER: int(1, 10_000, 20),
  STREAM_MAX_BUFFERED_BYTES: int(1024, 1024 * 1024 * 1024, 256 * 1024),
  JWT_SECRET: optionalText('an HS256 secret of at least 32 characters', true),
  JWT_PUBLIC_KEY: optionalText('a PEM-encoded RS256 or ES256 public key'),
  JWT_JWKS_URL: httpUrl('an http(s) URL of a JSON Web Key Set'),
  JWT_ISSUER: optionalText('the expected `iss` claim'),
  JWT_AUDIENCE: optionalText('the expected `aud` claim'),
  JWT_CLOCK_TOLERANCE_SEC: int(0, 300, 5),
  JWT_MAX_AGE_SEC: int(60, 366 * 86_400, 86_400),
  METRICS_PORT: {
    schema: z.string().trim().regex(/^\d+$/).transform(Number).pipe(z.number().int().min(0).max(65535)).optional().transform((v) => v ?? null),
    accepts: 'a port from 0 to 65535 for the Prometheus /metrics listener (default: unset, no listener)'
  },
  OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl('the http(s) base URL of an OTLP collector, e.g. http://localhost:4318 (default: unset, no traces)'),
  REDIS_URL: {
    schema: z.string().trim().optional().transform((v) => (v === '' || v === undefined ? null : v)).pipe(
      z.string().refine((v) => {
        try { return ['redis:', 'rediss:'].includes(new URL(v).protocol) } catch { return false }
      }).nullable()
    ),
    accepts: 'a redis:// or rediss:// URL, e.g. redis://:password@redis:6379/0 (default: unset, all state in this process)',
    secret: true
  },
  REDIS_KEY_PREFIX: {
    schema: z.string().trim().regex(/^[A-Za-z0-9:_.-]{1,64}$/).optional().transform((v) => v ?? 'vlgw:'),
    accepts: 'up to 64 letters, digits and : _ . - put before every Redis key and channel (default vlgw:)'
  },
  REDIS_HEARTBEAT_MS: {
    ...int(100, 60_000, 5_000),
    accepts: 'an integer from 100 to 60000: how often a replica renews what it holds in Redis (connection slots, idempotency keys it is writing); a stopped replica\'s are freed after three (default 5000)'
  },
  REDIS_COMMAND_TIMEOUT_MS: {
    ...int(10, 60_000, 500),
    accepts: 'an integer from 10 to 60000: the longest a request, a poller or a probe waits for Redis before it falls back as if Redis were down (default 500)'
  },
  REDIS_REQUEST_TIMEOUT_MS: {
    // Unset: 50 ms, or REDIS_COMMAND_TIMEOUT_MS when that is shorter (resolved below).
    schema: z.string().trim().regex(/^\d+$/).transform(Number).pipe(z.number().int().min(1).max(60_000)).optional().transform((v) => v ?? null),
    accepts: 'an integer from 1 to 60000, at most REDIS_COMMAND_TIMEOUT_MS: the longest a request\'s rate-limit count or connection slot waits for Redis before it is counted in this replica alone (default 50, or REDIS_COMMAND_TIMEOUT_MS if shorter)'
  },
  TRUSTED_DOCUMENTS: optionalText('the path of a persisted documents manifest, {"sha256:<hex>": "<document>"} as GraphQL Code Generator\'s client preset writes it (default: unset, none)'),
  TRUSTED_DOCUMENTS_ONLY: bool(false),
  TRUSTED_DOCUMENTS_ALLOW_INTROSPECTION: bool(false),
  OTEL_SERVICE_NAME: {
    schema: z.string().trim().min(1).max(200).optional().transform((v) => v ?? 'visual-layer-gateway'),
    accepts: 'the service name traces carry (default visual-layer-gateway)'
  }
} satisfies Record<string, Variable<unknown>>

type Parsed = { [K in keyof typeof VARIABLES]: z.output<(typeof VARIABLES)[K]['schema']> }

/** Variables that may be read instead from the file `<NAME>_FILE` names, as container platforms mount secrets. */
const FROM_FILE = [
  'VL_API_KEY', 'VL_API_SECRET', 'JWT_SECRET', 'JWT_PUBLIC_KEY', 'REDIS_URL', 'METRICS_TOKEN'
] as const satisfies ReadonlyArray<keyof typeof VARIABLES>

/** Every variable the gateway reads, for the files that set them (.env.example, deploy/) and their tests. */
export const VARIABLE_NAMES: readonly string[] = [...Object.keys(VARIABLES), ...FROM_FILE.map((name) => `${name}_FILE`)]

/**
 * Reads the file a `<NAME>_FILE` variable names (utf-8). Only the entry point touches the file system
 * (ARCHITECTURE.md), so it passes this to `loadConfig`; without it such variables are refused.
 */
export type ReadFile = (path: string) => string

const READ_ERRORS: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'it is a directory' }

/** `env` with each `<NAME>_FILE` replaced by the file's text as NAME, its trailing newlines trimmed; never echoes a file's text. */
function withFiles (env: Env, readFile: ReadFile | undefined, problems: string[]): Env {
  const resolved: Env = { ...env }
  for (const name of FROM_FILE) {
    const path = env[`${name}_FILE`]?.trim()
    if (path === undefined || path === '') continue
    if (env[name] !== undefined && env[name] !== '') {
      problems.push(`${name}/${name}_FILE: both are set; set the value or the file that holds it, not both`)
      continue
    }
    if (readFile === undefined) {
      problems.push(`${name}_FILE: this program reads no files; set ${name} itself`)
      continue
    }
    let text: string
    try {
      text = readFile(path)
    } catch (err) {
      const code = (err as { code?: unknown }).code
      problems.push(`${name}_FILE: could not read ${JSON.stringify(path)} (${typeof code === 'string' ? READ_ERRORS[code] ?? code : 'unreadable'})`)
      continue
    }
    text = text.replace(/[\r\n]+$/, '')
    if (text === '') problems.push(`${name}_FILE: ${JSON.stringify(path)} is empty`)
    else resolved[name] = text
  }
  return resolved
}

function describe (name: string, raw: string | undefined, variable: Variable<unknown>): string {
  const shown = variable.secret === true ? '' : ` (got ${JSON.stringify(raw)})`
  return `${name}: expected ${variable.accepts}${raw === undefined ? '' : shown}`
}

/**
 * Reads the configuration from `env`, and the files of `<NAME>_FILE` variables with `readFile`;
 * throws ConfigError naming every bad variable.
 */
export function loadConfig (environment: Env, readFile?: ReadFile): Config {
  const problems: string[] = []
  const env = withFiles(environment, readFile, problems)
  const parsed: Record<string, unknown> = {}
  for (const [name, variable] of Object.entries(VARIABLES) as Array<[string, Variable<unknown>]>) {
    const raw = env[name]
    // An empty variable counts as unset, as shells and compose files often produce them.
    const result = variable.schema.safeParse(raw === '' ? undefined : raw)
    if (result.success) parsed[name] = result.data
    else problems.push(describe(name, raw, variable))
  }
  if (problems.length > 0) throw new ConfigError(problems)
  const v = parsed as Parsed

  const embedded = v.VL_BASE_URL === null
  const authMode: AuthMode = v.AUTH_MODE ?? (embedded ? 'none' : 'passthrough')

  if (embedded && (v.VL_API_KEY !== null || v.VL_API_SECRET !== null)) {
    problems.push(
      'VL_API_KEY/VL_API_SECRET: set without VL_BASE_URL; set VL_BASE_URL to use them with Visual Layer, or unset them to run on the embedded emulator'
    )
  }
  if (!embedded && authMode !== 'passthrough') {
    if (v.VL_API_KEY === null) {
      problems.push(
        `VL_API_KEY: required with AUTH_MODE=${authMode} and VL_BASE_URL set: the gateway calls Visual Layer with this service account`
      )
    }
    if (v.VL_API_SECRET === null) {
      problems.push(
        `VL_API_SECRET: required with AUTH_MODE=${authMode} and VL_BASE_URL set: the gateway signs its upstream tokens with it`
      )
    }
  }
  if ((v.VL_API_KEY === null) !== (v.VL_API_SECRET === null) && !embedded && authMode === 'passthrough') {
    problems.push('VL_API_KEY/VL_API_SECRET: set both or neither')
  }
  if (authMode === 'jwt') {
    const kinds = [v.JWT_SECRET, v.JWT_PUBLIC_KEY, v.JWT_JWKS_URL].filter((k) => k !== null).length
    if (kinds !== 1) problems.push('JWT_SECRET/JWT_PUBLIC_KEY/JWT_JWKS_URL: AUTH_MODE=jwt needs exactly one of them')
    if (v.JWT_SECRET !== null && v.JWT_SECRET.length < 32) problems.push('JWT_SECRET: expected at least 32 characters')
    if (v.JWT_JWKS_URL !== null && v.JWT_ISSUER === null) problems.push('JWT_ISSUER: required with JWT_JWKS_URL: keys are fetched only for this issuer')
  }
  if (v.METRICS_PORT !== null && v.METRICS_PORT !== 0 && v.METRICS_PORT === v.PORT) {
    problems.push(`METRICS_PORT: must differ from PORT (${v.PORT}): metrics are served apart from the API`)
  }
  if (v.REDIS_REQUEST_TIMEOUT_MS !== null && v.REDIS_REQUEST_TIMEOUT_MS > v.REDIS_COMMAND_TIMEOUT_MS) {
    problems.push(`REDIS_REQUEST_TIMEOUT_MS: must not exceed REDIS_COMMAND_TIMEOUT_MS (${v.REDIS_COMMAND_TIMEOUT_MS}): a request never waits longer than any wait for Redis`)
  }
  if (v.HTTP_HEADERS_TIMEOUT_MS > v.HTTP_REQUEST_TIMEOUT_MS) {
    problems.push(`HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS (${v.HTTP_REQUEST_TIMEOUT_MS}): the headers are part of the request`)
  }
  if (v.TRUSTED_DOCUMENTS_ONLY && v.TRUSTED_DOCUMENTS === null) {
    problems.push('TRUSTED_DOCUMENTS_ONLY: needs TRUSTED_DOCUMENTS, the manifest of the documents to accept')
  }
  if (v.METRICS_TOKEN !== null && v.METRICS_PORT === null) {
    problems.push('METRICS_TOKEN: set without METRICS_PORT; set METRICS_PORT to serve metrics, or unset METRICS_TOKEN')
  }
  if (v.COST_CACHE_MAX_ENTRY_BYTES > v.COST_CACHE_MAX_BYTES) {
    problems.push(`COST_CACHE_MAX_ENTRY_BYTES: must not exceed COST_CACHE_MAX_BYTES (${v.COST_CACHE_MAX_BYTES})`)
  }
  if (v.RESPONSE_CACHE_MAX_ENTRY_BYTES > v.RESPONSE_CACHE_MAX_BYTES) {
    problems.push(`RESPONSE_CACHE_MAX_ENTRY_BYTES: must not exceed RESPONSE_CACHE_MAX_BYTES (${v.RESPONSE_CACHE_MAX_BYTES})`)
  }
  if (problems.length > 0) throw new ConfigError(problems)

  return deepFreeze({
    port: v.PORT,
    host: v.HOST,
    logLevel: v.LOG_LEVEL ?? 'info',
    authMode,
    jwt: {
      secret: v.JWT_SECRET,
      publicKey: v.JWT_PUBLIC_KEY,
      jwksUrl: v.JWT_JWKS_URL,
      issuer: v.JWT_ISSUER,
      audience: v.JWT_AUDIENCE,
      clockToleranceSec: v.JWT_CLOCK_TOLERANCE_SEC,
      maxAgeSec: v.JWT_MAX_AGE_SEC
    },
    upstream: {
      ...(v.VL_BASE_URL === null
        ? { kind: 'embedded' as const }
        : { kind: 'remote' as const, baseUrl: v.VL_BASE_URL, apiKey: v.VL_API_KEY, apiSecret: v.VL_API_SECRET }),
      timeoutMs: v.UPSTREAM_TIMEOUT_MS,
      connectTimeoutMs: v.UPSTREAM_CONNECT_TIMEOUT_MS,
      maxResponseBytes: v.UPSTREAM_MAX_RESPONSE_BYTES,
      connections: v.UPSTREAM_CONNECTIONS,
      batchConcurrency: v.UPSTREAM_BATCH_CONCURRENCY,
      modelCacheTtlMs: v.MODEL_CACHE_TTL_MS,
      retries: v.UPSTREAM_RETRIES,
      breakerThreshold: v.BREAKER_THRESHOLD,
      breakerCooldownMs: v.BREAKER_COOLDOWN_MS,
      breakerMaxScoped: v.BREAKER_MAX_SCOPED,
      breakerSpreadPrincipals: v.BREAKER_SPREAD_ACCOUNTS,
      maxCallsPerOperation: v.MAX_UPSTREAM_CALLS_PER_OPERATION
    },
    readyCacheMs: v.READY_CACHE_MS,
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS,
    graphiql: v.GRAPHIQL,
    maxQueryDepth: v.MAX_QUERY_DEPTH,
    maxQueryFields: v.MAX_QUERY_FIELDS,
    maxQueryTokens: v.MAX_QUERY_TOKENS,
    maxQueryAliases: v.MAX_QUERY_ALIASES,
    maxQueryDirectives: v.MAX_QUERY_DIRECTIVES,
    maxQueryCost: v.MAX_QUERY_COST,
    maxValidationErrors: v.MAX_VALIDATION_ERRORS,
    costCache: { maxBytes: v.COST_CACHE_MAX_BYTES, maxEntryBytes: v.COST_CACHE_MAX_ENTRY_BYTES },
    responseCache: { ttlMs: v.RESPONSE_CACHE_TTL_MS, maxBytes: v.RESPONSE_CACHE_MAX_BYTES, maxEntryBytes: v.RESPONSE_CACHE_MAX_ENTRY_BYTES },
    rateLimitUnprovenPerMinute: v.RATE_LIMIT_UNPROVEN_PER_MINUTE,
    metricsMaxOperationNames: v.METRICS_MAX_OPERATION_NAMES,
    metricsToken: v.METRICS_TOKEN,
    introspection: v.INTROSPECTION ?? embedded,
    idempotencyWindowMs: v.IDEMPOTENCY_WINDOW_MS,
    corsOrigins: v.CORS_ORIGINS,
    corsAllowedHeaders: [...new Set(v.CORS_ALLOWED_HEADERS)],
    rateLimitPerMinute: v.RATE_LIMIT_PER_MINUTE,
    rateLimitMutationsPerMinute: v.RATE_LIMIT_MUTATIONS_PER_MINUTE,
    trustProxy: v.TRUST_PROXY,
    loadShedding: {
      maxEventLoopDelayMs: v.LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS,
      maxHeapUsedBytes: v.LOAD_SHED_MAX_HEAP_USED_BYTES,
      retryAfterSec: v.LOAD_SHED_RETRY_AFTER_SEC
    },
    wsInitTimeoutMs: v.WS_INIT_TIMEOUT_MS,
    wsMaxPendingPerAddress: v.WS_MAX_PENDING_PER_ADDRESS,
    wsMaxPending: v.WS_MAX_PENDING,
    wsMaxUnprovenPerAddress: v.WS_MAX_UNPROVEN_PER_ADDRESS,
    wsLimits: {
      maxBufferedBytes: v.WS_MAX_BUFFERED_BYTES,
      maxInitBytes: v.WS_MAX_INIT_BYTES,
      maxMessageBytes: v.WS_MAX_MESSAGE_BYTES,
      closeTimeoutMs: v.WS_CLOSE_TIMEOUT_MS,
      maxPingPayloadBytes: v.WS_MAX_PING_PAYLOAD_BYTES,
      messagesPerSecond: v.WS_MESSAGES_PER_SECOND,
      messageBurst: v.WS_MESSAGE_BURST,
      receivedBytesPerSecond: v.WS_RECEIVED_BYTES_PER_SECOND,
      receivedBytesBurst: v.WS_RECEIVED_BYTES_BURST,
      subscribesPerSecond: v.WS_SUBSCRIBES_PER_SECOND,
      subscribeBurst: v.WS_SUBSCRIBE_BURST,
      maxOperationIdLength: v.WS_MAX_OPERATION_ID_LENGTH
    },
    live: {
      pollIntervalMs: v.POLL_INTERVAL_MS,
      // Never below the fast interval: a gateway set to poll every minute does not poll a settled resource more often.
      pollMaxIntervalMs: Math.max(v.POLL_INTERVAL_MS, v.POLL_MAX_INTERVAL_MS),
      maxPollsPerSecond: v.MAX_POLLS_PER_SECOND,
      maxSubscriptionsPerConnection: v.WS_MAX_SUBSCRIPTIONS,
      maxConnectionsPerCaller: v.WS_MAX_CONNECTIONS_PER_CALLER,
      maxStreamsPerCaller: v.SSE_MAX_STREAMS_PER_CALLER
    },
    liveQueries: { maxResources: v.LIVE_QUERY_MAX_RESOURCES, perCaller: v.LIVE_QUERIES_PER_CALLER },
    metricsPort: v.METRICS_PORT,
    tracing: { endpoint: v.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: v.OTEL_SERVICE_NAME },
    redis: {
      url: v.REDIS_URL,
      keyPrefix: v.REDIS_KEY_PREFIX,
      heartbeatMs: v.REDIS_HEARTBEAT_MS,
      commandTimeoutMs: v.REDIS_COMMAND_TIMEOUT_MS,
      requestTimeoutMs: v.REDIS_REQUEST_TIMEOUT_MS ?? Math.min(50, v.REDIS_COMMAND_TIMEOUT_MS)
    },
    trustedDocuments: { path: v.TRUSTED_DOCUMENTS, only: v.TRUSTED_DOCUMENTS_ONLY, allowIntrospection: v.TRUSTED_DOCUMENTS_ALLOW_INTROSPECTION },
    http: {
      headersTimeoutMs: v.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: v.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: v.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      maxRestStreamsPerCaller: v.REST_MAX_STREAMS_PER_CALLER,
      maxStreamBufferedBytes: v.STREAM_MAX_BUFFERED_BYTES
    },
    webhooks: {
      maxPerCaller: v.WEBHOOKS_MAX_PER_CALLER,
      retrySchedule: v.WEBHOOKS_RETRY_SCHEDULE,
      attemptTimeoutMs: v.WEBHOOKS_ATTEMPT_TIMEOUT_MS,
      disableAfterMs: v.WEBHOOKS_DISABLE_AFTER_MS,
      maxInFlightPerTarget: v.WEBHOOKS_MAX_IN_FLIGHT_PER_TARGET,
      maxPending: v.WEBHOOKS_MAX_PENDING,
      maxResponseBytes: v.WEBHOOKS_MAX_RESPONSE_BYTES,
      allowPrivateTargets: v.WEBHOOKS_ALLOW_PRIVATE_TARGETS
    }
  })
}

/** Whether the upstream is known, as `buildApp` needs it; an embedded one is started by src/start.ts first. */
export function hasRemoteUpstream (config: Config): config is Config<RemoteUpstream> {
  return config.upstream.kind === 'remote'
}

export function deepFreeze<T> (value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const inner of Object.values(value)) deepFreeze(inner)
  }
  return value
}
