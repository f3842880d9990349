/**
 * The gateway against what a frontend does without it (the REST calls of each page, polling for live
 * status), gateway and emulator in this one process, measured in the same run on the same machine
 * (these machines are shared and noisy: read the ratios, not the absolute figures). The servers
 * compared side by side, each in its own process, are `npm run bench` (run.ts).
 *
 *   npm run bench:frontend                 all scenarios
 *   BENCH_SECONDS=20 npm run bench:frontend
 *
 * Figures go to stdout and to bench/results/frontend.json.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { createClient } from 'graphql-ws'
import { request } from 'undici'
import WebSocket from 'ws'
import { buildApp } from '../src/app.js'
import { hasRemoteUpstream, loadConfig } from '../src/config.js'
import { DEMO_ACCOUNTS, SEED, startEmulator, type RunningEmulator } from '../src/emulator/index.js'
import { visualLayerToken } from '../test/helpers/tokens.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8)
const UPSTREAM_LATENCY_MS = Number(process.env.BENCH_UPSTREAM_LATENCY_MS ?? 20)
const CONCURRENCY = 10

interface Figures { requests: number, perSecond: number, p50: number, p99: number, upstreamCallsPerRequest: number }

function percentile (sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : Math.round((sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0) * 10) / 10
}

/** Runs `once` from `concurrency` loops for SECONDS and reports throughput, latency and upstream calls. */
async function load (emulator: RunningEmulator, once: () => Promise<void>, concurrency = CONCURRENCY): Promise<Figures> {
  emulator.clearCalls()
  const latencies: number[] = []
  const end = performance.now() + SECONDS * 1000
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      const started = performance.now()
      await once()
      latencies.push(performance.now() - started)
    }
  }))
  latencies.sort((a, b) => a - b)
  return {
    requests: latencies.length,
    perSecond: Math.round(latencies.length / SECONDS),
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    upstreamCallsPerRequest: Math.round((emulator.calls().length / latencies.length) * 10) / 10
  }
}

async function main (): Promise<void> {
  const emulator = await startEmulator({ clock: 'real' })
  // Every Visual Layer call takes UPSTREAM_LATENCY_MS, as over a real network.
  emulator.injectFault({ path: '/api/v1/**', delayMs: UPSTREAM_LATENCY_MS, times: 1_000_000 })
  const config = loadConfig({
    VL_BASE_URL: emulator.url,
    VL_API_KEY: DEMO_ACCOUNTS.primary.apiKey,
    VL_API_SECRET: DEMO_ACCOUNTS.primary.apiSecret,
    AUTH_MODE: 'none',
    LOG_LEVEL: 'silent',
    POLL_INTERVAL_MS: '500',
    MAX_POLLS_PER_SECOND: '1000',
    WS_MAX_SUBSCRIPTIONS: '10000',
    WS_MAX_CONNECTIONS_PER_CALLER: '10000',
    RATE_LIMIT_PER_MINUTE: '0',
    RATE_LIMIT_MUTATIONS_PER_MINUTE: '0',
    // All clients on one address, opening their sockets at once; measured at full load, never shed.
    WS_MAX_PENDING_PER_ADDRESS: '100000',
    LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0'
  })
  if (!hasRemoteUpstream(config)) throw new Error('unreachable: VL_BASE_URL is set')
  const app = await buildApp(config)
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  const token = visualLayerToken(DEMO_ACCOUNTS.primary)
  const results: Record<string, unknown> = { seconds: SECONDS, upstreamLatencyMs: UPSTREAM_LATENCY_MS, concurrency: CONCURRENCY, node: process.version }

  // 1. The task manager page: 50 tasks with their datasets.
  const page = '{ tasks(pageSize: 50) { nodes { id status dataset { displayName status } } } }'
  const viaGatewayOnce = async (): Promise<void> => {
    const res = await request(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: page }) })
    const body = await res.body.json() as { errors?: unknown }
    if (res.statusCode !== 200 || body.errors !== undefined) throw new Error(`gateway answered ${res.statusCode}`)
  }
  // One client alone: batching and de-duplication within the request only.
  const gatewayAlone = await load(emulator, viaGatewayOnce, 1)
  // Ten at once: identical reads in flight are also shared between requests.
  const viaGateway = await load(emulator, viaGatewayOnce)
  // Without the gateway: the frontend reads the task list, then each row's dataset, as REST clients do.
  const vl = async (path: string): Promise<unknown> => {
    const res = await request(`${emulator.url}${path}`, { headers: { authorization: `Bearer ${token}` } })
    if (res.statusCode !== 200) throw new Error(`Visual Layer answered ${res.statusCode}`)
    return await res.body.json()
  }
  const directOnce = async (): Promise<void> => {
    const tasks = await vl('/api/v1/tasks?page_size=50') as { tasks: Array<{ dataset_id: string }> }
    await Promise.all(tasks.tasks.map(async (task) => await vl(`/api/v1/dataset/${task.dataset_id}`)))
  }
  const directAlone = await load(emulator, directOnce, 1)
  const direct = await load(emulator, directOnce)
  results.taskPage = {
    oneClient: {
      gateway: gatewayAlone,
      directPerRow: directAlone,
      upstreamCallRatio: round(directAlone.upstreamCallsPerRequest / gatewayAlone.upstreamCallsPerRequest),
      latencyRatioP50: round(directAlone.p50 / gatewayAlone.p50)
    },
    tenClients: {
      gateway: viaGateway,
      directPerRow: direct,
      upstreamCallRatio: round(direct.upstreamCallsPerRequest / viaGateway.upstreamCallsPerRequest),
      latencyRatioP50: round(direct.p50 / viaGateway.p50)
    }
  }

  // 2. Live status: many watchers of one dataset, by subscription vs each polling on its own.
  const watchers = 500
  const interval = 500
  emulator.clearCalls()
  const heapBefore = process.memoryUsage().heapUsed
  const clients = Array.from({ length: 10 }, () => createClient({
    url: `${url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    onNonLazyError: () => {}
  }))
  let events = 0
  const stops = Array.from({ length: watchers }, (_, i) => (clients[i % clients.length] as ReturnType<typeof createClient>).subscribe(
    { query: `subscription { datasetStatusChanged(datasetId: "${SEED.datasets.readOnly}", follow: true) { status progress } }` },
    { next: () => { events++ }, error: () => {}, complete: () => {} }
  ))
  // eslint-disable-next-line no-unmodified-loop-condition -- events grows in the subscriptions' callbacks
  while (events < watchers) await new Promise((resolve) => setTimeout(resolve, 20))
  // Client and gateway share this process: the figure counts both ends of each subscription.
  const heapPerSubscription = Math.round((process.memoryUsage().heapUsed - heapBefore) / watchers)
  emulator.clearCalls()
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000))
  const gatewayPolls = emulator.calls().length
  for (const stop of stops) stop()
  await Promise.all(clients.map(async (client) => { await client.dispose() }))

  emulator.clearCalls()
  const timers = Array.from({ length: watchers }, () => setInterval(() => { void vl(`/api/v1/dataset/${SEED.datasets.readOnly}`).catch(() => {}) }, interval))
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000))
  for (const timer of timers) clearInterval(timer)
  const directPolls = emulator.calls().length
  results.liveStatus = {
    watchers,
    intervalMs: interval,
    upstreamPollsPerSecond: { gateway: round(gatewayPolls / SECONDS), directPolling: round(directPolls / SECONDS) },
    pollRatio: round(directPolls / Math.max(1, gatewayPolls)),
    heapBytesPerSubscriptionBothEnds: heapPerSubscription
  }

  await app.close()
  await emulator.close()
  await mkdir(new URL('results/', import.meta.url), { recursive: true })
  await writeFile(new URL('results/frontend.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`)
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`)
}

function round (value: number): number {
  return Math.round(value * 10) / 10
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
