/**
 * Subscription scale, measured out of process (issue 10). Three processes: this one holds the
 * clients (the real graphql-ws client over `ws`), the gateway runs alone in a child (bench/scale/
 * gateway.mjs) and the emulator in another (bench/scale/emulator.ts), so the gateway's memory and CPU
 * are read from the operating system (/proc/<pid>/status VmRSS, /proc/<pid>/stat utime+stime) and
 * count neither the clients nor the upstream.
 *
 *   npm run bench:scale                                        10,000 subscriptions over 1,000 connections
 *   SCALE_SUBSCRIPTIONS=100000 SCALE_CONNECTIONS=5000 npm run bench:scale
 *   SCALE_AUTH_MODE=jwt npm run bench:scale                    callers with their own (HS256) tokens
 *   SCALE_HEAP_SNAPSHOTS=/tmp/snap npm run bench:scale         heap snapshots before and after subscribing
 *   SCALE_GATEWAY_BUILD=src npm run bench:scale                the gateway from src/ through tsx, without a build
 *
 * The gateway runs from dist/ by default, as in production: `npm run build` first.
 *
 * Other knobs: SCALE_INTERVAL_MS (POLL_INTERVAL_MS, default 1000), SCALE_CHANGES (status changes timed,
 * default 10). Figures go to stdout and to bench/results/scale-<subscriptions>x<connections>-<mode>.json.
 */
import { readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { createSigner } from 'fast-jwt'
import { createClient, type Client } from 'graphql-ws'
import { request } from 'undici'
import WebSocket from 'ws'
import { DEMO_ACCOUNTS, SEED } from '../../src/emulator/index.js'
import { spawnChild, type Child } from './ipc.js'

const SUBSCRIPTIONS = Number(process.env.SCALE_SUBSCRIPTIONS ?? 10_000)
const CONNECTIONS = Number(process.env.SCALE_CONNECTIONS ?? 1_000)
const INTERVAL_MS = Number(process.env.SCALE_INTERVAL_MS ?? 1_000)
const CHANGES = Number(process.env.SCALE_CHANGES ?? 10)
const AUTH_MODE = process.env.SCALE_AUTH_MODE ?? 'none'
const SNAPSHOTS = process.env.SCALE_HEAP_SNAPSHOTS
/** 'dist' (default): the compiled gateway, as `npm start` runs it (run `npm run build` first); 'src': through tsx. */
const GATEWAY_BUILD = process.env.SCALE_GATEWAY_BUILD === 'src' ? 'src' : 'dist'
const JWT_SECRET = 'scale-bench-secret-of-at-least-32-characters'
/** Callers in jwt mode (each connection belongs to one; the per-caller connection limit is raised to match). */
const JWT_CALLERS = 10
const CLOCK_TICK_HZ = 100
/** More fields for each event (e.g. "creationStatus { status }"): upstream calls they make per event are counted. */
const EXTRA_FIELDS = process.env.SCALE_EXTRA_FIELDS ?? ''
/** More node flags for the gateway process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` (its figures then are not valid). */
const GATEWAY_NODE_FLAGS = (process.env.SCALE_GATEWAY_NODE_FLAGS ?? '').split(' ').filter((flag) => flag !== '')

// Every dataset of the account the gateway calls with (the hidden one is readable by id).
const DATASETS = Object.entries(SEED.datasets).filter(([name]) => !name.startsWith('secondary')).map(([name, id]) => ({ name, id: id as string }))
/** The dataset whose status moves when the emulator clock advances: INDEXING, progress rising, READY at +30 s. */
const MOVING = SEED.datasets.indexing as string

const GATEWAY_ENV: Record<string, string> = {
  VL_API_KEY: DEMO_ACCOUNTS.primary.apiKey,
  VL_API_SECRET: DEMO_ACCOUNTS.primary.apiSecret,
  AUTH_MODE,
  LOG_LEVEL: 'error',
  POLL_INTERVAL_MS: String(INTERVAL_MS),
  MAX_POLLS_PER_SECOND: '100',
  WS_MAX_SUBSCRIPTIONS: String(Math.max(100, Math.ceil(SUBSCRIPTIONS / CONNECTIONS))),
  // Each connection subscribes its share at once: the per-connection bursts hold it (bytes: about 200 a subscribe).
  WS_SUBSCRIBE_BURST: String(Math.max(100, Math.ceil(SUBSCRIPTIONS / CONNECTIONS))),
  WS_MESSAGE_BURST: String(Math.max(250, Math.ceil(SUBSCRIPTIONS / CONNECTIONS) + 10)),
  WS_RECEIVED_BYTES_BURST: String(Math.max(2 * 1024 * 1024, Math.ceil(SUBSCRIPTIONS / CONNECTIONS) * 1024)),
  WS_MAX_CONNECTIONS_PER_CALLER: String(Math.min(10_000, CONNECTIONS)),
  // Every client is on one address and opens its connections at once; the run measures the gateway
  // at full load, so it neither caps sockets before connection_init nor sheds load.
  WS_MAX_PENDING_PER_ADDRESS: String(Math.max(20, CONNECTIONS)),
  WS_MAX_PENDING: String(Math.max(1_000, CONNECTIONS)),
  LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
  ...(AUTH_MODE === 'jwt' ? { JWT_SECRET } : {})
}

interface Subscriber { dataset: string, subscribedAt: number, events: Array<{ at: number, progress: number, status: string }>, error: unknown }

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

function rssKb (pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(match?.[1] ?? NaN)
}

/** utime + stime of a process, in seconds. */
function cpuSeconds (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICK_HZ
}

function percentile (values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0 ? NaN : round(sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * p) - 1)] ?? NaN)
}

function round (value: number, digits = 1): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}

async function until (what: string, done: () => boolean, timeoutMs: number): Promise<number> {
  const started = performance.now()
  while (!done()) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(5)
  }
  return performance.now() - started
}

async function control (emulatorUrl: string, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
  const sent = body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
  const res = await request(`${emulatorUrl}${path}`, { method, ...sent })
  const json = await res.body.json()
  if (res.statusCode !== 200) throw new Error(`emulator ${method} ${path}: ${res.statusCode} ${JSON.stringify(json)}`)
  return json
}

/** The gateway's memory after a full collection: RSS from the OS, heap figures from the process. */
async function memory (gateway: Child): Promise<{
  rssKb: number, heapUsedKb: number, heapTotalKb: number, externalKb: number, arrayBuffersKb: number, activeResources: Record<string, number>
}> {
  await gateway.ask('gc')
  await sleep(300)
  const inside = await gateway.ask<{ memory: NodeJS.MemoryUsage, activeResources: Record<string, number> }>('memory')
  const kb = (bytes: number): number => Math.round(bytes / 1024)
  return {
    rssKb: rssKb(gateway.pid),
    heapUsedKb: kb(inside.memory.heapUsed),
    heapTotalKb: kb(inside.memory.heapTotal),
    externalKb: kb(inside.memory.external),
    arrayBuffersKb: kb(inside.memory.arrayBuffers),
    activeResources: inside.activeResources
  }
}

function connectionParams (index: number): Record<string, unknown> {
  if (AUTH_MODE !== 'jwt') return {}
  const sign = createSigner({ key: JWT_SECRET, algorithm: 'HS256' })
  const now = Math.floor(Date.now() / 1000)
  return { Authorization: `Bearer ${sign({ sub: `user-${index % JWT_CALLERS}`, iat: now, exp: now + 3600 })}` }
}

/** Opens `count` graphql-ws clients, `batch` at a time (a burst of thousands would overflow the accept backlog). */
async function connect (url: string, count: number, batch = 250): Promise<Client[]> {
  const clients: Client[] = []
  for (let start = 0; start < count; start += batch) {
    const opened = Array.from({ length: Math.min(batch, count - start) }, async (_, i) => await new Promise<Client>((resolve, reject) => {
      const client: Client = createClient({
        url,
        webSocketImpl: WebSocket,
        lazy: false,
        retryAttempts: 0,
        connectionParams: connectionParams(start + i),
        onNonLazyError: reject,
        on: { connected: () => { resolve(client) } }
      })
    }))
    clients.push(...await Promise.all(opened))
  }
  return clients
}

/** Polls per watched dataset in a window, from the emulator's call log, and the real-time gaps between them. */
async function pollsIn (emulator: Child, emulatorUrl: string, windowStart: number, windowMs: number): Promise<Record<string, unknown>> {
  const calls = await control(emulatorUrl, 'GET', '/_emulator/calls') as Array<{ method: string, path: string }>
  const perDataset = new Map<string, number>(DATASETS.map(({ id }) => [id, 0]))
  let other = 0
  for (const call of calls) {
    const id = call.method === 'GET' ? /^\/api\/v1\/dataset\/([^/]+)$/.exec(call.path)?.[1] : undefined
    if (id !== undefined && perDataset.has(id)) perDataset.set(id, (perDataset.get(id) ?? 0) + 1)
    else other++
  }
  const arrivals = await emulator.ask<Array<{ path: string, at: number }>>('arrivals')
  const gaps: number[] = []
  const lastAt = new Map<string, number>()
  for (const { path, at } of arrivals) {
    const previous = lastAt.get(path)
    if (previous !== undefined) gaps.push(at - previous)
    lastAt.set(path, at)
  }
  // The longest time a dataset went unpolled, counting from the window's start and to its end.
  const silences = DATASETS.map(({ id }) => {
    const times = arrivals.filter((arrival) => arrival.path === `/api/v1/dataset/${id}`).map((arrival) => arrival.at)
    const edges = [windowStart, ...times, windowStart + windowMs]
    return Math.max(...edges.slice(1).map((at, i) => at - (edges[i] ?? at)))
  })
  const counts = [...perDataset.values()]
  const intervals = windowMs / INTERVAL_MS
  return {
    windowMs: Math.round(windowMs),
    intervals: round(intervals),
    // The poller adds ±10 % jitter to each interval, so a window of n intervals holds n/1.1 to n/0.9 polls.
    expectedPerDataset: [Math.floor(intervals / 1.1), Math.ceil(intervals / 0.9)],
    pollsPerDataset: Object.fromEntries(DATASETS.map(({ name, id }) => [name, perDataset.get(id)])),
    pollsPerDatasetPerInterval: { min: round(Math.min(...counts) / intervals, 2), max: round(Math.max(...counts) / intervals, 2) },
    gapBetweenPollsOfOneDatasetMs: { min: Math.min(...gaps), p50: percentile(gaps, 0.5), max: Math.max(...gaps) },
    longestSilenceOfADatasetMs: Math.round(Math.max(...silences)),
    otherUpstreamCalls: other
  }
}

async function main (): Promise<void> {
  const results: Record<string, unknown> = {
    subscriptions: SUBSCRIPTIONS,
    connections: CONNECTIONS,
    datasets: DATASETS.length,
    node: process.version,
    cpus: (await import('node:os')).cpus().length,
    authMode: AUTH_MODE,
    gatewayBuild: GATEWAY_BUILD,
    processes: 'clients and measurements in the bench process; gateway alone in a child (bench/scale/gateway.mjs); emulator in a third process (bench/scale/emulator.ts)',
    gatewayEnv: Object.fromEntries(Object.entries(GATEWAY_ENV).filter(([name]) => !/SECRET/.test(name)))
  }
  const emulator = spawnChild('./emulator.ts', {}, ['--import', 'tsx'])
  const emulatorUrl = String((await emulator.ready).url)
  const gateway = spawnChild(
    './gateway.mjs',
    { ...GATEWAY_ENV, VL_BASE_URL: emulatorUrl, SCALE_GATEWAY_BUILD: GATEWAY_BUILD },
    [...(GATEWAY_BUILD === 'src' ? ['--import', 'tsx', '--expose-gc'] : ['--expose-gc']), ...GATEWAY_NODE_FLAGS]
  )
  const wsUrl = `${String((await gateway.ready).url).replace('http', 'ws')}/graphql`
  const query = (datasetId: string): string => `subscription { datasetStatusChanged(datasetId: "${datasetId}", follow: true) { id status progress ${EXTRA_FIELDS} } }`
  const log = (line: string): void => { process.stderr.write(`[scale] ${line}\n`) }

  try {
    // Warm-up: every code path of a subscription runs once, so the baseline holds the compiled code.
    const [warm] = await connect(wsUrl, 1)
    if (warm === undefined) throw new Error('no warm-up client')
    let warmEvents = 0
    const warmStops = DATASETS.map(({ id }) => warm.subscribe({ query: query(id) }, {
      next: () => { warmEvents++ },
      error: (err) => { throw new Error(`warm-up subscription failed: ${JSON.stringify(err)}`) },
      complete: () => {}
    }))
    await until('warm-up events', () => warmEvents >= DATASETS.length, 10_000)
    for (const stop of warmStops) stop()
    await warm.dispose()
    await sleep(2 * INTERVAL_MS)
    const baseline = await memory(gateway)
    if (SNAPSHOTS !== undefined) await gateway.ask('heapSnapshot', { path: `${SNAPSHOTS}/baseline.heapsnapshot` })
    log(`baseline RSS ${baseline.rssKb} kB`)

    // Connections first, then subscriptions: their memory is told apart.
    const connectStarted = performance.now()
    const clients = await connect(wsUrl, CONNECTIONS)
    const connectMs = performance.now() - connectStarted
    const connected = await memory(gateway)
    log(`${CONNECTIONS} connections in ${Math.round(connectMs)} ms, RSS ${connected.rssKb} kB`)

    await control(emulatorUrl, 'DELETE', '/_emulator/calls')
    const subscribers: Subscriber[] = []
    const stops: Array<() => void> = []
    let firsts = 0
    let errors = 0
    const subscribeCpu = { gateway: cpuSeconds(gateway.pid), clients: process.cpuUsage() }
    const subscribeStarted = performance.now()
    for (let i = 0; i < SUBSCRIPTIONS; i++) {
      const dataset = DATASETS[i % DATASETS.length]?.id ?? ''
      const subscriber: Subscriber = { dataset, subscribedAt: performance.now(), events: [], error: null }
      subscribers.push(subscriber)
      stops.push((clients[i % CONNECTIONS] as Client).subscribe<{ datasetStatusChanged: { progress: number, status: string } }>({ query: query(dataset) }, {
        next: (result) => {
          const at = performance.now()
          const event = result.data?.datasetStatusChanged
          if (event === undefined) { subscriber.error = result.errors; errors++; return }
          if (subscriber.events.length === 0) firsts++
          subscriber.events.push({ at, progress: event.progress, status: event.status })
        },
        error: (err) => { subscriber.error = err; errors++ },
        complete: () => {}
      }))
    }
    await until('every first event', () => firsts + errors >= SUBSCRIPTIONS, 120_000)
    const subscribeElapsed = (performance.now() - subscribeStarted) / 1000
    const clientCpu = process.cpuUsage(subscribeCpu.clients)
    const firstLatencies = subscribers.filter((s) => s.events.length > 0).map((s) => (s.events[0]?.at ?? 0) - s.subscribedAt)
    const lastFirst = Math.max(...subscribers.filter((s) => s.events.length > 0).map((s) => s.events[0]?.at ?? 0))
    results.firstEvents = {
      received: firsts,
      errors,
      firstError: subscribers.find((s) => s.error !== null)?.error ?? null,
      fromFirstSubscribeToLastFirstEventMs: Math.round(lastFirst - subscribeStarted),
      perSubscriptionMs: { p50: percentile(firstLatencies, 0.5), p99: percentile(firstLatencies, 0.99), max: round(Math.max(...firstLatencies)) },
      withinFiveSeconds: firstLatencies.filter((ms) => ms <= 5000).length,
      // Which process was busy while subscribing (on a 2-core machine the clients compete with the gateway).
      cpuPercentOfOneCoreWhileSubscribing: {
        gateway: round(((cpuSeconds(gateway.pid) - subscribeCpu.gateway) / subscribeElapsed) * 100),
        clients: round(((clientCpu.user + clientCpu.system) / 1e6 / subscribeElapsed) * 100)
      },
      gatewayCpuMsPerSubscription: round(((cpuSeconds(gateway.pid) - subscribeCpu.gateway) * 1000) / SUBSCRIPTIONS, 3)
    }
    log(`first events: ${JSON.stringify(results.firstEvents)}`)

    // Calls made for the first events' fields (polls carry the request id poll-<dataset>).
    const subscribeCalls = await control(emulatorUrl, 'GET', '/_emulator/calls') as Array<{ requestId: string | null }>
    Object.assign(results.firstEvents as object, {
      upstreamCallsBesidesPolls: subscribeCalls.filter((call) => call.requestId?.startsWith('poll-') !== true).length
    })

    const subscribed = await memory(gateway)
    if (SNAPSHOTS !== undefined) await gateway.ask('heapSnapshot', { path: `${SNAPSHOTS}/subscribed.heapsnapshot` })
    results.memory = {
      baseline,
      connected,
      subscribed,
      rssPerConnectionKb: round((connected.rssKb - baseline.rssKb) / CONNECTIONS, 2),
      rssPerSubscriptionKb: round((subscribed.rssKb - connected.rssKb) / SUBSCRIPTIONS, 2),
      rssPerSubscriptionIncludingConnectionsKb: round((subscribed.rssKb - baseline.rssKb) / SUBSCRIPTIONS, 2),
      heapPerSubscriptionKb: round((subscribed.heapUsedKb - connected.heapUsedKb) / SUBSCRIPTIONS, 2),
      heapPerConnectionKb: round((connected.heapUsedKb - baseline.heapUsedKb) / CONNECTIONS, 2)
    }
    log(`memory: ${JSON.stringify(results.memory)}`)

    // Idle: nothing changes upstream; the gateway only polls and pings.
    await control(emulatorUrl, 'DELETE', '/_emulator/calls')
    await emulator.ask('clearArrivals')
    const idleMs = Math.max(10 * INTERVAL_MS, 10_000)
    const idleCpuBefore = cpuSeconds(gateway.pid)
    const idleStarted = performance.now()
    const idleStartedAt = Date.now()
    await sleep(idleMs)
    const idleCpu = cpuSeconds(gateway.pid) - idleCpuBefore
    const idleElapsed = performance.now() - idleStarted
    const idleCpuPerMs = (idleCpu * 1000) / idleElapsed
    results.idle = {
      polls: await pollsIn(emulator, emulatorUrl, idleStartedAt, idleElapsed),
      cpuPercentOfOneCore: round((idleCpu / (idleElapsed / 1000)) * 100)
    }
    log(`idle: ${JSON.stringify(results.idle)}`)

    // Status changes: the clock moves 1 s, the INDEXING dataset's progress with it; every one of its
    // subscribers must hear it. The spread is from the first to the last of them receiving it.
    const watchers = subscribers.filter((s) => s.dataset === MOVING && s.error === null)
    const others = subscribers.filter((s) => s.dataset !== MOVING)
    const otherEventsBefore = others.reduce((sum, s) => sum + s.events.length, 0)
    await control(emulatorUrl, 'DELETE', '/_emulator/calls')
    const spreads: number[] = []
    const cpuPerChange = { gateway: [] as number[], clients: [] as number[] }
    const lagsP99: number[] = []
    const fromChange: number[] = []
    /** Wall time from each clock move to its last receiver: the idle CPU of that span is not the fan-out's. */
    let changeElapsedMs = 0
    for (let change = 1; change <= CHANGES; change++) {
      const seen = watchers.map((s) => s.events.length)
      const cpuAtChange = { gateway: cpuSeconds(gateway.pid), clients: process.cpuUsage() }
      const advancedAt = performance.now()
      await control(emulatorUrl, 'POST', '/_emulator/clock', { advanceMs: 1000 })
      await until(`change ${change} at every subscriber`, () => watchers.every((s, i) => s.events.length > (seen[i] ?? 0)), 3 * INTERVAL_MS + 10_000)
      const times = watchers.map((s, i) => s.events[seen[i] ?? 0]?.at ?? NaN)
      const first = Math.min(...times)
      const lags = times.map((t) => t - first)
      spreads.push(Math.max(...lags))
      lagsP99.push(percentile(lags, 0.99))
      fromChange.push(first - advancedAt)
      // CPU from the clock move to the last receiver: the poll and the fan-out in the gateway, the decoding in the clients.
      const clientCpu = process.cpuUsage(cpuAtChange.clients)
      cpuPerChange.gateway.push((cpuSeconds(gateway.pid) - cpuAtChange.gateway) * 1000)
      changeElapsedMs += Math.max(...times) - advancedAt
      cpuPerChange.clients.push((clientCpu.user + clientCpu.system) / 1000)
    }
    // Polls carry the request id poll-<dataset>; anything else was made for an event's fields.
    const changeCalls = await control(emulatorUrl, 'GET', '/_emulator/calls') as Array<{ requestId: string | null }>
    const eventCalls = changeCalls.filter((call) => call.requestId?.startsWith('poll-') !== true).length
    const otherEvents = others.reduce((sum, s) => sum + s.events.length, 0) - otherEventsBefore
    results.changes = {
      changes: CHANGES,
      subscribersPerChange: watchers.length,
      spreadFirstToLastMs: { p50: percentile(spreads, 0.5), p99: percentile(spreads, 0.99), max: round(Math.max(...spreads)) },
      p99SubscriberLagMs: { p50: percentile(lagsP99, 0.5), max: round(Math.max(...lagsP99)) },
      cpuMsPerChange: { gateway: percentile(cpuPerChange.gateway, 0.5), clients: percentile(cpuPerChange.clients, 0.5) },
      // Every change's gateway CPU, less what it spends idle (polls, pings: the idle phase's rate) over the same wall time, per subscriber reached.
      gatewayCpuMsPerDelivery: round((cpuPerChange.gateway.reduce((sum, ms) => sum + ms, 0) - idleCpuPerMs * changeElapsedMs) / (CHANGES * watchers.length), 4),
      clockMoveToFirstReceiverMs: { p50: percentile(fromChange, 0.5), max: round(Math.max(...fromChange)) },
      eventsOnDatasetsThatDidNotChange: otherEvents,
      extraFields: EXTRA_FIELDS,
      upstreamCallsBesidesPollsPerChange: round(eventCalls / CHANGES)
    }
    log(`changes: ${JSON.stringify(results.changes)}`)

    // Everyone leaves. Polls may still arrive while the gateway works through the closes; after two
    // intervals there must be no poller left: none polls in the next two intervals either.
    const leaveCpu = cpuSeconds(gateway.pid)
    await control(emulatorUrl, 'DELETE', '/_emulator/calls')
    await emulator.ask('clearArrivals')
    const leftAt = Date.now()
    for (const stop of stops) stop()
    await Promise.all(clients.map(async (client) => { await client.dispose() }))
    const disposedMs = Date.now() - leftAt
    await sleep(2 * INTERVAL_MS)
    const early = await emulator.ask<Array<{ at: number }>>('arrivals')
    const gone = await memory(gateway)
    await control(emulatorUrl, 'DELETE', '/_emulator/calls')
    await sleep(2 * INTERVAL_MS)
    const late = (await control(emulatorUrl, 'GET', '/_emulator/calls') as unknown[]).length
    await sleep(3_000)
    const settled = await memory(gateway)
    results.afterLeaving = {
      clientsClosedMs: disposedMs,
      pollsInFirstTwoIntervals: early.length,
      lastPollAfterLeavingMs: early.length === 0 ? null : Math.max(...early.map((arrival) => arrival.at - leftAt)),
      pollsInNextTwoIntervals: late,
      leaveCpuSeconds: round(cpuSeconds(gateway.pid) - leaveCpu, 2),
      timersBaselineVsTwoIntervalsAfter: [baseline.activeResources.Timeout ?? 0, gone.activeResources.Timeout ?? 0],
      rssKb: { baseline: baseline.rssKb, peak: subscribed.rssKb, twoIntervalsAfter: gone.rssKb, later: settled.rssKb },
      heapUsedKb: { baseline: baseline.heapUsedKb, peak: subscribed.heapUsedKb, later: settled.heapUsedKb },
      activeResourcesAfter: settled.activeResources
    }
    log(`after leaving: ${JSON.stringify(results.afterLeaving)}`)
  } finally {
    await gateway.ask('close').catch(() => {})
    await gateway.stop()
    await emulator.stop()
  }

  await mkdir(new URL('../results/', import.meta.url), { recursive: true })
  const file = new URL(`../results/scale-${SUBSCRIPTIONS}x${CONNECTIONS}-${AUTH_MODE}.json`, import.meta.url)
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`)
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`)
}

main().then(() => { process.exit(0) }, (err: unknown) => {
  process.stderr.write(`scale bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
