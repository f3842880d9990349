/**
 * Live queries at scale (issue 25): 10,000 `@live` dataset-page queries on 100 datasets, 10 of them
 * being created (in motion), the others settled. Three processes, as bench/scale/run.ts: this one
 * holds the clients (graphql-ws over `ws`), the gateway runs alone (bench/scale/gateway.mjs, from
 * dist/) and the emulator in another (bench/live-emulator.ts), so the gateway's CPU is read from the
 * operating system (/proc/<pid>/stat utime+stime) and counts neither the clients nor the upstream.
 *
 * Two runs of the same world, each with a fresh emulator and gateway: adaptive polling
 * (POLL_MAX_INTERVAL_MS = LIVE_BENCH_MAX_INTERVAL_MS) and fixed-interval polling (POLL_MAX_INTERVAL_MS =
 * POLL_INTERVAL_MS). In each, the emulator's clock moves LIVE_BENCH_TICK_MS every real second (the
 * moving datasets' progress, and their creation tasks', change at every tick); after LIVE_BENCH_SETTLE_S
 * (long enough for settled datasets' pollers to reach the ceiling) the gateway's counts and CPU are
 * read at the start and at the end of a window of LIVE_BENCH_WINDOW_S. Half the subscribers ask for
 * JSON patches, half for whole results; bytes are the JSON of each message after the first.
 *
 *   npm run bench:live
 *   LIVE_BENCH_QUERIES=2000 LIVE_BENCH_SETTLE_S=40 LIVE_BENCH_WINDOW_S=30 npm run bench:live
 */
import { readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { createClient, type Client } from 'graphql-ws'
import { request } from 'undici'
import WebSocket from 'ws'
import { DEMO_ACCOUNTS } from '../src/emulator/index.js'
import { spawnChild, type Child } from './scale/ipc.js'

const QUERIES = Number(process.env.LIVE_BENCH_QUERIES ?? 10_000)
const CONNECTIONS = Number(process.env.LIVE_BENCH_CONNECTIONS ?? 100)
const DATASETS = Number(process.env.LIVE_BENCH_DATASETS ?? 100)
const MOVING = Number(process.env.LIVE_BENCH_MOVING ?? 10)
const INTERVAL_MS = Number(process.env.LIVE_BENCH_INTERVAL_MS ?? 1_000)
const MAX_INTERVAL_MS = Number(process.env.LIVE_BENCH_MAX_INTERVAL_MS ?? 30_000)
const TICK_MS = Number(process.env.LIVE_BENCH_TICK_MS ?? 200)
const SETTLE_S = Number(process.env.LIVE_BENCH_SETTLE_S ?? 70)
const WINDOW_S = Number(process.env.LIVE_BENCH_WINDOW_S ?? 60)
const CLOCK_TICK_HZ = 100
const PER_CONNECTION = Math.ceil(QUERIES / CONNECTIONS)

const PAGE = `query DatasetPage($id: ID!) @live { dataset(id: $id) {
  id displayName status progress imageCount
  creationStatus { status progress }
  models { id name isActive }
  enrichment { id status applied { type modelId } }
  tasks(pageSize: 20) { total hasNextPage nodes { id type status progress } }
} }`

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }
const round = (value: number, digits = 1): number => Math.round(value * 10 ** digits) / 10 ** digits

/** utime + stime of a process, in seconds. */
function cpuSeconds (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICK_HZ
}

interface Received { messages: number, bytes: number }
interface Group { whole: Received, patches: Received }
interface LiveFigures {
  counts: { reexecutions: number, deliveries: number, shared: number }
  size: { executions: number, subscribers: number }
  polls: Record<string, number>
}

async function connect (url: string, count: number): Promise<Client[]> {
  return await Promise.all(Array.from({ length: count }, async () => await new Promise<Client>((resolve, reject) => {
    const client: Client = createClient({
      url, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0, onNonLazyError: reject, on: { connected: () => { resolve(client) } }
    })
  })))
}

type PhaseFigures = Record<string, unknown> & { pollsPerMinute: number, bytesPerMessage: { whole: number, patches: number } }

async function phase (name: 'adaptive' | 'fixed'): Promise<PhaseFigures> {
  const emulator = spawnChild('../live-emulator.ts', { LIVE_BENCH_DATASETS: String(DATASETS), LIVE_BENCH_MOVING: String(MOVING) }, ['--import', 'tsx'])
  const { url: emulatorUrl } = await emulator.ready as unknown as { url: string }
  const { watched } = await emulator.ask<{ watched: string[], moving: string[] }>('datasets')
  const gateway: Child = spawnChild('gateway.mjs', {
    VL_BASE_URL: emulatorUrl,
    AUTH_MODE: 'none',
    VL_API_KEY: DEMO_ACCOUNTS.primary.apiKey,
    VL_API_SECRET: DEMO_ACCOUNTS.primary.apiSecret,
    LOG_LEVEL: 'error',
    POLL_INTERVAL_MS: String(INTERVAL_MS),
    POLL_MAX_INTERVAL_MS: String(name === 'fixed' ? INTERVAL_MS : MAX_INTERVAL_MS),
    MAX_POLLS_PER_SECOND: '1000',
    LIVE_QUERIES_PER_CALLER: String(QUERIES),
    WS_MAX_SUBSCRIPTIONS: String(Math.max(100, PER_CONNECTION)),
    WS_SUBSCRIBE_BURST: String(Math.max(100, PER_CONNECTION)),
    WS_MESSAGE_BURST: String(Math.max(250, PER_CONNECTION + 10)),
    WS_RECEIVED_BYTES_BURST: String(Math.max(2 * 1024 * 1024, PER_CONNECTION * 1024)),
    WS_MAX_CONNECTIONS_PER_CALLER: String(CONNECTIONS),
    WS_MAX_PENDING_PER_ADDRESS: String(Math.max(20, CONNECTIONS)),
    LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
    // The clients are one caller: its allowance of operations a minute would refuse most of them.
    RATE_LIMIT_PER_MINUTE: '0'
  }, ['--expose-gc'])
  const { url } = await gateway.ready as unknown as { url: string }
  const clients = await connect(`${url.replace('http', 'ws')}/graphql`, CONNECTIONS)
  const group: Group = { whole: { messages: 0, bytes: 0 }, patches: { messages: 0, bytes: 0 } }
  let firsts = 0
  let allFirst: () => void = () => {}
  const allFirsts = new Promise<void>((resolve) => { allFirst = resolve })
  for (let i = 0; i < QUERIES; i++) {
    const patches = i % 2 === 1
    const mine = patches ? group.patches : group.whole
    let first = true
    clients[i % CONNECTIONS]?.subscribe(
      { query: PAGE, variables: { id: watched[i % watched.length] }, ...(patches ? { extensions: { live: { patch: 'json-patch' } } } : {}) },
      {
        next: (message) => {
          if (first) {
            first = false
            if (++firsts === QUERIES) allFirst()
            return
          }
          mine.messages++
          mine.bytes += JSON.stringify(message).length
        },
        error: (err) => { console.error('live query error', err) },
        complete: () => {}
      }
    )
  }
  const started = performance.now()
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`only ${firsts} of ${QUERIES} first results in 120 s`)) }, 120_000)
  })
  await Promise.race([allFirsts, late])
  clearTimeout(timer)
  const firstResultsMs = Math.round(performance.now() - started)
  const ticker = setInterval(() => {
    request(`${emulatorUrl}/_emulator/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ advanceMs: TICK_MS }) })
      .then(async (res) => { await res.body.dump() }, (err: unknown) => { console.error('clock', err) })
  }, 1000)
  await sleep(SETTLE_S * 1000)
  const before = { live: await gateway.ask<LiveFigures>('live'), cpu: cpuSeconds(gateway.pid), group: structuredClone(group) }
  await sleep(WINDOW_S * 1000)
  const after = { live: await gateway.ask<LiveFigures>('live'), cpu: cpuSeconds(gateway.pid), group: structuredClone(group) }
  clearInterval(ticker)
  await Promise.all(clients.map(async (client) => { await client.dispose() }))
  await gateway.stop()
  await emulator.stop()

  const minutes = WINDOW_S / 60
  const grew = (key: string): number => (after.live.polls[key] ?? 0) - (before.live.polls[key] ?? 0)
  const polls = Object.keys(after.live.polls).reduce((sum, key) => sum + grew(key), 0)
  const changes = grew('dataset changed') + grew('tasks changed')
  const reexecutions = after.live.counts.reexecutions - before.live.counts.reexecutions
  const deliveries = after.live.counts.deliveries - before.live.counts.deliveries
  const cpuMs = (after.cpu - before.cpu) * 1000
  const sent = (kind: 'whole' | 'patches'): Received => ({
    messages: after.group[kind].messages - before.group[kind].messages,
    bytes: after.group[kind].bytes - before.group[kind].bytes
  })
  const whole = sent('whole')
  const patches = sent('patches')
  const messages = whole.messages + patches.messages
  return {
    polling: name,
    executions: after.live.size.executions,
    subscribers: after.live.size.subscribers,
    firstResultsMs,
    pollsPerMinute: round(polls / minutes),
    changedPollsPerMinute: round(changes / minutes),
    reexecutionsPerChange: round(reexecutions / Math.max(1, changes), 2),
    deliveriesPerMinute: round(deliveries / minutes),
    messagesPerMinute: round(messages / minutes),
    bytesPerMessage: { whole: round(whole.bytes / Math.max(1, whole.messages)), patches: round(patches.bytes / Math.max(1, patches.messages)) },
    gatewayCpuMsPerMinute: round(cpuMs / minutes),
    gatewayCpuMsPerDeliveredChange: round(cpuMs / Math.max(1, deliveries), 2),
    gatewayCpuMsPerMessage: round(cpuMs / Math.max(1, messages), 3)
  }
}

const adaptive = await phase('adaptive')
const fixed = await phase('fixed')
const results = {
  queries: QUERIES,
  connections: CONNECTIONS,
  datasets: DATASETS,
  moving: MOVING,
  intervalMs: INTERVAL_MS,
  maxIntervalMs: MAX_INTERVAL_MS,
  tickMs: TICK_MS,
  settleS: SETTLE_S,
  windowS: WINDOW_S,
  adaptive,
  fixed,
  ratios: {
    pollsAdaptiveOverFixed: round(adaptive.pollsPerMinute / Math.max(1, fixed.pollsPerMinute), 3),
    bytesPatchOverWhole: round(adaptive.bytesPerMessage.patches / Math.max(1, adaptive.bytesPerMessage.whole), 3)
  }
}
console.log(JSON.stringify(results, null, 2))
await mkdir(new URL('results/', import.meta.url), { recursive: true })
await writeFile(new URL(`results/live-${QUERIES}x${DATASETS}.json`, import.meta.url), JSON.stringify(results, null, 2))
