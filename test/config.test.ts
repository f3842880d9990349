import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../src/config.js'

function problemsOf (env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  throw new Error('expected a ConfigError')
}

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment (embedded emulator, AUTH_MODE none)', () => {
    expect(loadConfig({})).toEqual({
      port: 4000,
      host: '127.0.0.1',
      logLevel: 'info',
      authMode: 'none',
      jwt: { secret: null, publicKey: null, jwksUrl: null, issuer: null, audience: null, clockToleranceSec: 5, maxAgeSec: 86400 },
      upstream: { kind: 'embedded', timeoutMs: 10000, connectTimeoutMs: 3000, maxResponseBytes: 10485760, connections: 64, batchConcurrency: 16, modelCacheTtlMs: 60000, retries: 2, breakerThreshold: 5, breakerCooldownMs: 5000, breakerMaxScoped: 10000, breakerSpreadPrincipals: 2, maxCallsPerOperation: 200 },
      readyCacheMs: 5000,
      shutdownTimeoutMs: 10000,
      graphiql: true,
      maxQueryDepth: 10,
      maxQueryFields: 500,
      maxQueryTokens: 3000,
      maxQueryAliases: 20,
      maxQueryDirectives: 20,
      maxQueryCost: 200,
      maxValidationErrors: 10,
      costCache: { maxBytes: 4194304, maxEntryBytes: 4096 },
      responseCache: { ttlMs: 0, maxBytes: 16777216, maxEntryBytes: 524288 },
      rateLimitUnprovenPerMinute: 60,
      metricsMaxOperationNames: 100,
      metricsToken: null,
      introspection: true,
      idempotencyWindowMs: 86400000,
      corsOrigins: [],
      corsAllowedHeaders: [],
      rateLimitPerMinute: 1200,
      rateLimitMutationsPerMinute: 60,
      trustProxy: false,
      loadShedding: { maxEventLoopDelayMs: 1000, maxHeapUsedBytes: 0, retryAfterSec: 10 },
      wsInitTimeoutMs: 3000,
      webhooks: {
        maxPerCaller: 20,
        retrySchedule: [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000],
        attemptTimeoutMs: 10_000,
        disableAfterMs: 432_000_000,
        maxInFlightPerTarget: 4,
        maxPending: 100_000,
        maxResponseBytes: 1024,
        allowPrivateTargets: []
      },
      wsMaxPendingPerAddress: 20,
      wsMaxPending: 1000,
      wsMaxUnprovenPerAddress: 100,
      wsLimits: { maxBufferedBytes: 1048576, maxInitBytes: 16384, maxMessageBytes: 131072, closeTimeoutMs: 2000, maxPingPayloadBytes: 1024, messagesPerSecond: 100, messageBurst: 250, receivedBytesPerSecond: 262144, receivedBytesBurst: 2097152, subscribesPerSecond: 20, subscribeBurst: 100, maxOperationIdLength: 128 },
      live: { pollIntervalMs: 2000, pollMaxIntervalMs: 30000, maxPollsPerSecond: 20, maxSubscriptionsPerConnection: 100, maxConnectionsPerCaller: 20, maxStreamsPerCaller: 20 },
      liveQueries: { maxResources: 50, perCaller: 100 },
      metricsPort: null,
      tracing: { endpoint: null, serviceName: 'visual-layer-gateway' },
      redis: { url: null, keyPrefix: 'vlgw:', heartbeatMs: 5000, commandTimeoutMs: 500, requestTimeoutMs: 50 },
      trustedDocuments: { path: null, only: false, allowIntrospection: false },
      http: { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 72_000, maxRestStreamsPerCaller: 20, maxStreamBufferedBytes: 262_144 }
    })
  })

  it('takes POLL_MAX_INTERVAL_MS as given, and never below POLL_INTERVAL_MS', () => {
    expect(loadConfig({ POLL_INTERVAL_MS: '500', POLL_MAX_INTERVAL_MS: '8000' }).live).toMatchObject({ pollIntervalMs: 500, pollMaxIntervalMs: 8000 })
    expect(loadConfig({ POLL_INTERVAL_MS: '60000' }).live).toMatchObject({ pollIntervalMs: 60000, pollMaxIntervalMs: 60000 })
  })

  it('refuses a REDIS_REQUEST_TIMEOUT_MS longer than REDIS_COMMAND_TIMEOUT_MS, and unset takes the shorter of 50 and it', () => {
    expect(() => loadConfig({ REDIS_REQUEST_TIMEOUT_MS: '600', REDIS_COMMAND_TIMEOUT_MS: '500' })).toThrow(new ConfigError([
      'REDIS_REQUEST_TIMEOUT_MS: must not exceed REDIS_COMMAND_TIMEOUT_MS (500): a request never waits longer than any wait for Redis'
    ]))
    expect([loadConfig({ REDIS_COMMAND_TIMEOUT_MS: '20' }).redis.requestTimeoutMs, loadConfig({ REDIS_REQUEST_TIMEOUT_MS: '80' }).redis.requestTimeoutMs]).toEqual([20, 80])
  })

  it('refuses an HTTP_HEADERS_TIMEOUT_MS longer than HTTP_REQUEST_TIMEOUT_MS, and a keep-alive timeout under one second', () => {
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '10000' })).toThrow(new ConfigError([
      'HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS (10000): the headers are part of the request'
    ]))
    expect(() => loadConfig({ HTTP_KEEP_ALIVE_TIMEOUT_MS: '500' })).toThrow(new ConfigError([
      'HTTP_KEEP_ALIVE_TIMEOUT_MS: expected an integer from 1000 to 600000 (default 72000) (got "500")'
    ]))
  })

  it('reads METRICS_PORT apart from PORT, and the OpenTelemetry endpoint and service name', () => {
    const config = loadConfig({ METRICS_PORT: '9464', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/', OTEL_SERVICE_NAME: 'bff-eu' })
    expect(config.metricsPort).toBe(9464)
    expect(config.tracing).toEqual({ endpoint: 'http://collector:4318', serviceName: 'bff-eu' })
    expect(problemsOf({ PORT: '9000', METRICS_PORT: '9000', OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc://collector:4317' })).toEqual([
      'OTEL_EXPORTER_OTLP_ENDPOINT: expected the http(s) base URL of an OTLP collector, e.g. http://localhost:4318 (default: unset, no traces) (got "grpc://collector:4317")'
    ])
    expect(problemsOf({ PORT: '9000', METRICS_PORT: '9000' })).toEqual(['METRICS_PORT: must differ from PORT (9000): metrics are served apart from the API'])
    expect(problemsOf({ METRICS_PORT: 'ninety' })).toEqual([
      'METRICS_PORT: expected a port from 0 to 65535 for the Prometheus /metrics listener (default: unset, no listener) (got "ninety")'
    ])
  })

  it('defaults to passthrough with a real Visual Layer and strips the trailing slash of VL_BASE_URL', () => {
    const config = loadConfig({ VL_BASE_URL: 'https://app.visual-layer.com/', PORT: '8080', HOST: '0.0.0.0', GRAPHIQL: 'false' })
    expect(config.authMode).toBe('passthrough')
    expect(config.upstream).toMatchObject({ kind: 'remote', baseUrl: 'https://app.visual-layer.com' })
    expect(config.port).toBe(8080)
    expect(config.host).toBe('0.0.0.0')
    expect(config.graphiql).toBe(false)
  })

  it('turns introspection on with the embedded emulator and off with a real Visual Layer, unless INTROSPECTION says otherwise', () => {
    expect(loadConfig({}).introspection).toBe(true)
    expect(loadConfig({ INTROSPECTION: 'false' }).introspection).toBe(false)
    expect(loadConfig({ VL_BASE_URL: 'https://app.visual-layer.com' }).introspection).toBe(false)
    expect(loadConfig({ VL_BASE_URL: 'https://app.visual-layer.com', INTROSPECTION: '1' }).introspection).toBe(true)
    expect(problemsOf({ INTROSPECTION: 'on', MAX_QUERY_COST: '0', MAX_QUERY_ALIASES: '-1' })).toEqual([
      'MAX_QUERY_ALIASES: expected an integer from 0 to 10000 (default 20) (got "-1")',
      'MAX_QUERY_COST: expected an integer from 1 to 1000000 (default 200) (got "0")',
      'INTROSPECTION: expected true or false (default true on the embedded emulator, false with VL_BASE_URL) (got "on")'
    ])
  })

  it('returns a deeply frozen object', () => {
    const config = loadConfig({})
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.upstream)).toBe(true)
    expect(Object.isFrozen(config.jwt)).toBe(true)
  })

  it('reads CORS_ALLOWED_HEADERS as header names in lower case, once each, and refuses what is not a header name', () => {
    expect(loadConfig({ CORS_ALLOWED_HEADERS: ' X-Tenant-Id, baggage,,x-tenant-id ' }).corsAllowedHeaders).toEqual(['x-tenant-id', 'baggage'])
    expect(problemsOf({ CORS_ALLOWED_HEADERS: 'x-tenant-id,x tenant' })).toEqual([
      'CORS_ALLOWED_HEADERS: expected a comma-separated list of request header names such as x-tenant-id,baggage, allowed besides the built-in ones ' +
      '(default: none) (got "x-tenant-id,x tenant")'
    ])
    expect(problemsOf({ CORS_ALLOWED_HEADERS: 'x-a:b' })).toHaveLength(1)
  })

  it('reads CORS_ORIGINS as a list of origins and refuses anything else', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://app.example.com, http://localhost:5173' }).corsOrigins).toEqual(['https://app.example.com', 'http://localhost:5173'])
    expect(problemsOf({ CORS_ORIGINS: 'https://app.example.com/path,*' })).toEqual([
      'CORS_ORIGINS: expected a comma-separated list of origins such as https://app.example.com,http://localhost:5173 (default: none) (got "https://app.example.com/path,*")'
    ])
  })

  it('reads TRUST_PROXY as false, true, a hop count or a list of addresses and ranges, and refuses anything else', () => {
    expect(['false', 'true', '0', '2', '10.0.0.0/8, 127.0.0.1', 'loopback'].map((value) => loadConfig({ TRUST_PROXY: value }).trustProxy))
      .toEqual([false, true, false, 2, ['10.0.0.0/8', '127.0.0.1'], ['loopback']])
    const accepts = 'false, true, a number of hops from 1 to 100, or a comma-separated list of addresses and CIDR ranges such as 10.0.0.0/8,127.0.0.1 (default false)'
    expect(problemsOf({ TRUST_PROXY: 'proxy.example' })).toEqual([`TRUST_PROXY: expected ${accepts} (got "proxy.example")`])
    expect(problemsOf({ TRUST_PROXY: '10.0.0.0/99' })).toEqual([`TRUST_PROXY: expected ${accepts} (got "10.0.0.0/99")`])
    expect(problemsOf({ TRUST_PROXY: '101' })).toEqual([`TRUST_PROXY: expected ${accepts} (got "101")`])
  })

  it('reads the bounds of what one caller can make the gateway keep for others (issue 22), and refuses what does not fit', () => {
    expect(loadConfig({ COST_CACHE_MAX_BYTES: '65536', COST_CACHE_MAX_ENTRY_BYTES: '256' }).costCache).toEqual({ maxBytes: 65536, maxEntryBytes: 256 })
    expect(problemsOf({ COST_CACHE_MAX_BYTES: '65536', COST_CACHE_MAX_ENTRY_BYTES: '100000' })).toEqual([
      'COST_CACHE_MAX_ENTRY_BYTES: must not exceed COST_CACHE_MAX_BYTES (65536)'
    ])
    expect(loadConfig({ METRICS_PORT: '9464', METRICS_TOKEN: ' a-token-of-16-chars ' }).metricsToken).toBe('a-token-of-16-chars')
    expect(problemsOf({ METRICS_PORT: '9464', METRICS_TOKEN: 'short' })).toEqual([
      'METRICS_TOKEN: expected at least 16 printable characters, no spaces: the bearer token a scrape of /metrics must send (default: unset, none asked)'
    ])
    expect(problemsOf({ METRICS_TOKEN: 'a-token-of-16-chars' })).toEqual(['METRICS_TOKEN: set without METRICS_PORT; set METRICS_PORT to serve metrics, or unset METRICS_TOKEN'])
    expect(problemsOf({ COST_CACHE_MAX_BYTES: '1000' })).toEqual([
      'COST_CACHE_MAX_BYTES: expected an integer from 65536 to 1073741824 (default 4194304) (got "1000")'
    ])
  })

  it('reads the response cache: its TTL, its bytes in all and per answer, and refuses what does not fit', () => {
    expect(loadConfig({ RESPONSE_CACHE_TTL_MS: '2000', RESPONSE_CACHE_MAX_BYTES: '65536', RESPONSE_CACHE_MAX_ENTRY_BYTES: '1024' }).responseCache)
      .toEqual({ ttlMs: 2000, maxBytes: 65536, maxEntryBytes: 1024 })
    expect(problemsOf({ RESPONSE_CACHE_MAX_BYTES: '65536', RESPONSE_CACHE_MAX_ENTRY_BYTES: '100000' })).toEqual([
      'RESPONSE_CACHE_MAX_ENTRY_BYTES: must not exceed RESPONSE_CACHE_MAX_BYTES (65536)'
    ])
    expect(problemsOf({ RESPONSE_CACHE_TTL_MS: '60001' })).toEqual([
      'RESPONSE_CACHE_TTL_MS: expected an integer from 0 to 60000 (default 0) (got "60001")'
    ])
    expect(problemsOf({ RESPONSE_CACHE_MAX_ENTRY_BYTES: '10' })).toEqual([
      'RESPONSE_CACHE_MAX_ENTRY_BYTES: expected an integer from 1024 to 67108864 (default 524288) (got "10")'
    ])
  })

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', VL_BASE_URL: '', AUTH_MODE: '' }).port).toBe(4000)
  })

  it('names every bad variable at once, with what it accepts', () => {
    expect(problemsOf({ PORT: 'eighty', AUTH_MODE: 'open', LOG_LEVEL: 'loud', VL_BASE_URL: 'ftp://x', UPSTREAM_TIMEOUT_MS: '5', GRAPHIQL: 'yes' })).toEqual([
      'PORT: expected an integer from 0 to 65535 (default 4000) (got "eighty")',
      'LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent (default info) (got "loud")',
      'AUTH_MODE: expected one of none, passthrough, jwt (got "open")',
      'VL_BASE_URL: expected an http(s) URL without credentials, e.g. https://app.visual-layer.com (unset: run on the embedded emulator) (got "ftp://x")',
      'UPSTREAM_TIMEOUT_MS: expected an integer from 100 to 300000 (default 10000) (got "5")',
      'GRAPHIQL: expected true or false (default true) (got "yes")'
    ])
  })

  it('rejects a port out of range and a URL carrying credentials', () => {
    expect(problemsOf({ PORT: '70000', VL_BASE_URL: 'https://user:pw@vl.example' })).toEqual([
      'PORT: expected an integer from 0 to 65535 (default 4000) (got "70000")',
      'VL_BASE_URL: expected an http(s) URL without credentials, e.g. https://app.visual-layer.com (unset: run on the embedded emulator) (got "https://user:pw@vl.example")'
    ])
  })

  it('never echoes a secret in its message', () => {
    const problems = problemsOf({ AUTH_MODE: 'jwt', JWT_SECRET: 'short-secret' })
    expect(problems).toEqual([
      'JWT_SECRET: expected at least 32 characters'
    ])
    expect(problems.join('\n')).not.toContain('short-secret')
  })

  it('requires the service account when the gateway calls a real Visual Layer on its own behalf', () => {
    expect(problemsOf({ VL_BASE_URL: 'https://vl.example', AUTH_MODE: 'none' })).toEqual([
      'VL_API_KEY: required with AUTH_MODE=none and VL_BASE_URL set: the gateway calls Visual Layer with this service account',
      'VL_API_SECRET: required with AUTH_MODE=none and VL_BASE_URL set: the gateway signs its upstream tokens with it'
    ])
  })

  it('refuses credentials without VL_BASE_URL instead of silently ignoring them', () => {
    expect(problemsOf({ VL_API_KEY: 'k', VL_API_SECRET: 's' })).toEqual([
      'VL_API_KEY/VL_API_SECRET: set without VL_BASE_URL; set VL_BASE_URL to use them with Visual Layer, or unset them to run on the embedded emulator'
    ])
  })

  it('needs exactly one key source in jwt mode, and an issuer with a JWKS URL', () => {
    expect(problemsOf({ AUTH_MODE: 'jwt' })).toEqual(['JWT_SECRET/JWT_PUBLIC_KEY/JWT_JWKS_URL: AUTH_MODE=jwt needs exactly one of them'])
    expect(problemsOf({ AUTH_MODE: 'jwt', JWT_JWKS_URL: 'https://idp.example/jwks.json' })).toEqual(['JWT_ISSUER: required with JWT_JWKS_URL: keys are fetched only for this issuer'])
  })

  it('the error message lists each problem on its own line', () => {
    expect(() => loadConfig({ PORT: 'x', HOST: ' ' })).toThrow('Invalid configuration, the gateway did not start:\n  - PORT: expected an integer from 0 to 65535 (default 4000) (got "x")\n  - HOST: expected a host name or IP address to listen on (default 127.0.0.1) (got " ")')
  })
})
