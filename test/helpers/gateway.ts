import type { FastifyInstance } from 'fastify'
import { buildApp, type BuildOptions } from '../../src/app.js'
import { hasRemoteUpstream, loadConfig } from '../../src/config.js'
import { DEMO_ACCOUNTS, startEmulator, type RunningEmulator } from '../../src/emulator/index.js'
import { LogCapture } from './logs.js'

/** The emulator's frozen clock start in gateway tests: seeded data is the same on every run. */
export const TEST_START = new Date('2026-03-02T12:00:00Z')

export interface GraphQLResponse {
  status: number
  headers: Headers
  body: { data?: unknown, errors?: Array<{ message: string, path?: Array<string | number>, extensions?: Record<string, unknown> }> }
}

export interface TestGateway {
  readonly app: FastifyInstance
  readonly url: string
  readonly emulator: RunningEmulator
  readonly logs: LogCapture
  gql: (query: string, variables?: Record<string, unknown>, headers?: Record<string, string>) => Promise<GraphQLResponse>
  close: () => Promise<void>
}

/** POSTs `body` (JSON) to the gateway's /graphql: the status and the parsed JSON body, to compare whole. */
export async function post (gw: Pick<TestGateway, 'url'>, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number, body: unknown }> {
  const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  return { status: res.status, body: await res.json() }
}

/**
 * The gateway listening on a loopback port, over real HTTP to an emulator on another port,
 * with the emulator's primary demo account as its service account.
 */
export async function startTestGateway (env: Record<string, string> = {}, build: Omit<BuildOptions, 'logStream'> = {}): Promise<TestGateway> {
  const emulator = await startEmulator({ clock: TEST_START })
  const gateway = await startGatewayOn(emulator, env, build)
  return { ...gateway, async close () { await gateway.close(); await emulator.close() } }
}

/** A gateway on an emulator that somebody else started and closes (several replicas share one); `close` closes the gateway only. */
export async function startGatewayOn (emulator: RunningEmulator, env: Record<string, string> = {}, build: Omit<BuildOptions, 'logStream'> = {}): Promise<TestGateway> {
  const logs = new LogCapture()
  const config = loadConfig({
    VL_BASE_URL: emulator.url,
    VL_API_KEY: DEMO_ACCOUNTS.primary.apiKey,
    VL_API_SECRET: DEMO_ACCOUNTS.primary.apiSecret,
    AUTH_MODE: 'none',
    LOG_LEVEL: 'debug',
    // Upstream call counts in tests are exact: the model-list cache, GET retries and the circuit
    // breaker are off here and tested where they are asked for; so are rate limits and load shedding
    // (a busy test machine must not shed a test's requests).
    MODEL_CACHE_TTL_MS: '0',
    UPSTREAM_RETRIES: '0',
    BREAKER_THRESHOLD: '1000000',
    RATE_LIMIT_PER_MINUTE: '0',
    // As on the embedded default; with VL_BASE_URL set it would be off (test/graphql/introspection.test.ts).
    INTROSPECTION: 'true',
    RATE_LIMIT_MUTATIONS_PER_MINUTE: '0',
    RATE_LIMIT_UNPROVEN_PER_MINUTE: '0',
    LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
    ...env
  })
  if (!hasRemoteUpstream(config)) throw new Error('unreachable: VL_BASE_URL is set')
  const app = await buildApp(config, { ...build, logStream: logs })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  const url = `http://127.0.0.1:${address.port}`
  return {
    app,
    url,
    emulator,
    logs,
    async gql (query, variables, headers = {}) {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query, variables })
      })
      return { status: res.status, headers: res.headers, body: await res.json() as GraphQLResponse['body'] }
    },
    async close () {
      await app.close()
    }
  }
}
