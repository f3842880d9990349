/**
 * `npm run bench:soak`: the gateway under a steady load while subscriptions come and go, looking for
 * what grows (issue 14). Processes as in `npm run bench`: the emulator (20 ms a call, real clock, so
 * datasets being built change), the gateway (dist/, --expose-gc), autocannon; the subscribers run here.
 *
 * - Load: the task page (50 tasks with their dataset's name) at half of its maximum throughput, which
 *   a probe measures first (SOAK_PROBE_SECONDS, default 10; SOAK_RATE=<req/s> skips the probe).
 * - Meanwhile SOAK_SUBSCRIPTIONS (1000) subscriptions to datasetStatusChanged(follow: true) start
 *   evenly over the run, each living 5 to 30 s, half over WebSocket (graphql-ws) and half over SSE
 *   (graphql-sse), each with its own token; a third of the tokens expire during their subscription,
 *   which the gateway must end with one UNAUTHENTICATED result.
 * - Every 10 s: RSS (/proc) and heap after a full GC (asked over IPC), pollers, timers.
 * - At the end: errors (load and subscriptions), the slope of RSS and heap over the last 4 minutes, and
 *   pollers, client sockets, timers and upstream connections back to their counts before any load
 *   (waiting up to SOAK_SETTLE_SECONDS, default 90: idle upstream connections close when the
 *   emulator's keep-alive hint, Fastify's 72 s, runs out).
 *
 *   npm run bench:soak                   5 minutes
 *   SOAK_SECONDS=60 npm run bench:soak   a quick check of the harness
 *
 * Figures to stdout, bench/results/soak.json and the chart bench/results/soak.svg.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FormattedExecutionResult } from 'graphql'
import { createClient as createSseClient } from 'graphql-sse'
import { createClient as createWsClient } from 'graphql-ws'
import WebSocket from 'ws'
import { DEMO_ACCOUNTS, SEED } from '../src/emulator/index.js'
import { visualLayerToken } from '../test/helpers/tokens.js'
import { spawnChild } from './scale/ipc.js'

const SECONDS = Number(process.env.SOAK_SECONDS ?? 300)
const SUBSCRIPTIONS = Number(process.env.SOAK_SUBSCRIPTIONS ?? 1000)
const PROBE_SECONDS = Number(process.env.SOAK_PROBE_SECONDS ?? 10)
const FIXED_RATE = process.env.SOAK_RATE === undefined ? null : Number(process.env.SOAK_RATE)
const SETTLE_SECONDS = Number(process.env.SOAK_SETTLE_SECONDS ?? 90)
const SAMPLE_MS = 10_000
const SLOPE_WINDOW_S = 240
const SLOPE_LIMIT_MB_PER_MIN = 1
const LATENCY_MS = 20
const CONNECTIONS = 50
const TASK_PAGE = JSON.stringify({ query: '{ tasks(pageSize: 50) { total nodes { id type status progress startTime dataset { id displayName } } } }' })
const SUBSCRIPTION = 'subscription Watch($id: ID!) { datasetStatusChanged(datasetId: $id, follow: true) { id status progress } }'
const DATASETS = Object.entries(SEED.datasets).filter(([name]) => !name.startsWith('secondary')).map(([, id]) => id)

interface Sample { t: number, rssMb: number, heapMb: number, subscriptions: number, pollers: number, timers: number }
interface Counts { pollers: number, timers: number, clientSockets: number, upstreamConnections: number }
type Outcome = 'left' | 'expired' | 'error'

const log = (line: string): void => { process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}\n`) }

/** Established TCP sockets of a process, from its fds and /proc/<pid>/net/tcp{,6}: clients on `localPort`, calls to `remotePort`. */
function tcpSockets (pid: number, localPort: number, remotePort: number): { clients: number, upstream: number } {
  const inodes = new Set<string>()
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))
      if (match?.[1] !== undefined) inodes.add(match[1])
    } catch {
      // The fd closed between the listing and the read.
    }
  }
  let clients = 0
  let upstream = 0
  for (const file of ['tcp', 'tcp6']) {
    let text = ''
    try {
      text = readFileSync(`/proc/${pid}/net/${file}`, 'utf8')
    } catch {
      continue
    }
    for (const line of text.split('\n').slice(1)) {
      const columns = line.trim().split(/\s+/)
      // 01 = ESTABLISHED; column 9 is the socket's inode.
      if (columns.length < 10 || columns[3] !== '01' || !inodes.has(columns[9] ?? '')) continue
      const port = (address: string | undefined): number => parseInt(address?.split(':').at(-1) ?? '0', 16)
      if (port(columns[1]) === localPort) clients++
      else if (port(columns[2]) === remotePort) upstream++
    }
  }
  return { clients, upstream }
}

function rssMb (pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((row) => row.startsWith('VmRSS:')) ?? ''
  return Number(line.replace(/\D+/g, '')) / 1024
}

/** Least-squares slope of y over t (s), in units of y per minute. */
function slopePerMinute (points: Array<{ t: number, y: number }>): number {
  if (points.length < 2) return 0
  const meanT = points.reduce((sum, point) => sum + point.t, 0) / points.length
  const meanY = points.reduce((sum, point) => sum + point.y, 0) / points.length
  const num = points.reduce((sum, point) => sum + (point.t - meanT) * (point.y - meanY), 0)
  const den = points.reduce((sum, point) => sum + (point.t - meanT) ** 2, 0)
  return den === 0 ? 0 : (num / den) * 60
}

async function main (): Promise<void> {
  const emulator = spawnChild('../servers/emulator.mjs', { EMULATOR_LATENCY_MS: String(LATENCY_MS), EMULATOR_CLOCK: 'real' })
  const emulatorUrl = String((await emulator.ready).url)
  const emulatorPort = Number(new URL(emulatorUrl).port)
  const gateway = spawnChild('./gateway.mjs', {
    VL_BASE_URL: emulatorUrl,
    AUTH_MODE: 'passthrough',
    LOG_LEVEL: 'error',
    RATE_LIMIT_PER_MINUTE: '0',
    RATE_LIMIT_MUTATIONS_PER_MINUTE: '0',
    WS_MAX_CONNECTIONS_PER_CALLER: '10000',
    SSE_MAX_STREAMS_PER_CALLER: '10000',
    // Every client on one address, each with a token of its own: the per-address caps are lifted, and
    // the load is measured, never shed.
    WS_MAX_PENDING_PER_ADDRESS: '100000',
    WS_MAX_PENDING: '100000',
    WS_MAX_UNPROVEN_PER_ADDRESS: '100000',
    LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0'
  }, ['--expose-gc'])
  const url = String((await gateway.ready).url)
  const gatewayPort = Number(new URL(url).port)
  const load = spawnChild('../load.mjs', {})
  await load.ready
  const token = visualLayerToken(DEMO_ACCOUNTS.primary, { exp: Math.floor(Date.now() / 1000) + 86_400 })
  const taskPage = {
    url,
    method: 'POST',
    path: '/graphql',
    body: TASK_PAGE,
    connections: CONNECTIONS,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  }
  interface LoadFigures { requests: number, perSecond: number, p50: number, p99: number, errors: number, firstFailure: string | null }
  const counts = async (): Promise<Counts> => {
    const inside = await gateway.ask<{ activeResources: Record<string, number>, pollers: number }>('memory')
    const sockets = tcpSockets(gateway.pid, gatewayPort, emulatorPort)
    return { pollers: inside.pollers, timers: inside.activeResources.Timeout ?? 0, clientSockets: sockets.clients, upstreamConnections: sockets.upstream }
  }
  /** Counts once all are at most `target`'s, or as they are after `limitMs`. */
  const settledCounts = async (limitMs: number, target: Counts): Promise<Counts> => {
    const end = Date.now() + limitMs
    for (;;) {
      const now = await counts()
      if ((Object.keys(now) as Array<keyof Counts>).every((key) => now[key] <= target[key]) || Date.now() >= end) return now
      await sleep(1000)
    }
  }
  const results: Record<string, unknown> = {
    startedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
    settings: { seconds: SECONDS, subscriptions: SUBSCRIPTIONS, latencyMs: LATENCY_MS, connections: CONNECTIONS }
  }

  try {
    // Before any load: the gateway has made no upstream call yet and holds no client.
    const start = await counts()
    // Half of the task page's maximum throughput.
    let rate = FIXED_RATE
    if (rate === null) {
      const probe = await load.ask<LoadFigures>('run', { ...taskPage, seconds: PROBE_SECONDS })
      if (probe.errors > 0) throw new Error(`the throughput probe had ${probe.errors} errors: ${probe.firstFailure ?? ''}`)
      rate = Math.max(1, Math.round(probe.perSecond / 2))
      results.probe = { seconds: PROBE_SECONDS, maxPerSecond: probe.perSecond, p50: probe.p50, p99: probe.p99 }
      log(`task page at most ${Math.round(probe.perSecond)} req/s: the soak loads it at ${rate} req/s`)
    }
    results.ratePerSecond = rate

    await gateway.ask('gc')
    const started = Date.now()
    const samples: Sample[] = []
    let open = 0
    const sample = async (): Promise<void> => {
      await gateway.ask('gc')
      const inside = await gateway.ask<{ memory: NodeJS.MemoryUsage, activeResources: Record<string, number>, pollers: number }>('memory')
      samples.push({
        t: (Date.now() - started) / 1000,
        rssMb: rssMb(gateway.pid),
        heapMb: inside.memory.heapUsed / 2 ** 20,
        subscriptions: open,
        pollers: inside.pollers,
        timers: inside.activeResources.Timeout ?? 0
      })
      const last = samples.at(-1) as Sample
      log(`t=${Math.round(last.t)} s RSS ${last.rssMb.toFixed(1)} MB heap ${last.heapMb.toFixed(1)} MB, ${open} subscriptions, ${last.pollers} pollers`)
    }
    await sample()
    const sampler = setInterval(() => { void sample() }, SAMPLE_MS)

    const loadRun = load.ask<LoadFigures>('run', { ...taskPage, seconds: SECONDS, overallRate: rate })

    // Subscriptions start evenly over the run but its last 30 s, so that each ends within it.
    const outcomes: Record<Outcome, number> = { left: 0, expired: 0, error: 0 }
    const byTransport = { ws: 0, sse: 0 }
    const failures: string[] = []
    const window = Math.max(1, SECONDS - 30) * 1000
    const subscribe = async (i: number): Promise<void> => {
      await sleep((i * window) / SUBSCRIPTIONS)
      const transport = i % 2 === 0 ? 'ws' : 'sse'
      byTransport[transport]++
      const lifeMs = 5000 + Math.random() * 25_000
      // A third of the tokens expire during the subscription (at least 3 s in), the rest after it.
      const expiring = i % 3 === 0
      const ttlSec = expiring ? Math.max(3, Math.floor(lifeMs / 2000)) : Math.ceil(lifeMs / 1000) + 60
      const caller = visualLayerToken(DEMO_ACCOUNTS.primary, { exp: Math.floor(Date.now() / 1000) + ttlSec, jti: `soak-${i}` })
      const variables = { id: DATASETS[i % DATASETS.length] }
      open++
      const outcome = await new Promise<Outcome>((resolve) => {
        let events = 0
        let settled = false
        let leave = (): void => {}
        const finish = (outcome: Outcome, why?: string): void => {
          if (settled) return
          settled = true
          clearTimeout(timer)
          if (why !== undefined && failures.length < 20) failures.push(`${transport} #${i}: ${why}`)
          // Whatever ended it, the client leaves and closes its connection (after subscribe() returned).
          setImmediate(() => { leave() })
          resolve(outcome)
        }
        const sink = {
          next: (result: FormattedExecutionResult) => {
            const code = result.errors?.[0]?.extensions?.code
            if (result.errors === undefined) events++
            else if (code === 'UNAUTHENTICATED' && expiring) finish('expired')
            else finish('error', `an error result ${JSON.stringify(result.errors)}`)
          },
          error: (err: unknown) => { finish('error', `client error ${err instanceof Error ? err.message : JSON.stringify(err)}`) },
          complete: () => { if (!settled) finish('error', 'completed by the server before its client left') }
        }
        if (transport === 'ws') {
          const client = createWsClient({
            url: `${url.replace('http', 'ws')}/graphql`,
            webSocketImpl: WebSocket,
            connectionParams: { Authorization: `Bearer ${caller}` },
            retryAttempts: 0,
            lazyCloseTimeout: 0
          })
          const unsubscribe = client.subscribe({ query: SUBSCRIPTION, variables }, sink)
          leave = () => {
            unsubscribe()
            void client.dispose()
          }
        } else {
          const client = createSseClient({ url: `${url}/graphql/stream`, headers: { authorization: `Bearer ${caller}` }, retryAttempts: 0 })
          const unsubscribe = client.subscribe({ query: SUBSCRIPTION, variables }, sink)
          leave = () => {
            unsubscribe()
            client.dispose()
          }
        }
        const timer = setTimeout(() => { finish(events > 0 ? 'left' : 'error', events > 0 ? undefined : `no event in ${Math.round(lifeMs)} ms`) }, lifeMs)
      })
      open--
      outcomes[outcome]++
    }
    await Promise.all(Array.from({ length: SUBSCRIPTIONS }, async (_, i) => { await subscribe(i) }))
    const loadFigures = await loadRun
    clearInterval(sampler)
    await sample()
    log(`load: ${Math.round(loadFigures.perSecond)} req/s, ${loadFigures.errors} errors; subscriptions: ${JSON.stringify(outcomes)}`)

    // Idle upstream connections close when the emulator's keep-alive hint (Fastify's 72 s) runs out.
    log('waiting for the counts to come back to their starting values')
    const end = await settledCounts(SETTLE_SECONDS * 1000, start)
    const lastT = samples.at(-1)?.t ?? 0
    const window4 = samples.filter((point) => point.t >= lastT - SLOPE_WINDOW_S)
    const rssSlope = slopePerMinute(window4.map((point) => ({ t: point.t, y: point.rssMb })))
    const heapSlope = slopePerMinute(window4.map((point) => ({ t: point.t, y: point.heapMb })))
    const slopeSpan = Math.round(lastT - (window4[0]?.t ?? 0))

    const targets = [
      { target: 'task page load: errors', figure: String(loadFigures.errors), limit: '= 0', holds: loadFigures.errors === 0 },
      { target: 'subscriptions: errors', figure: String(outcomes.error), limit: '= 0', holds: outcomes.error === 0 },
      ...([['RSS', rssSlope], ['heap', heapSlope]] as const).map(([what, slope]) => ({
        target: `${what} after GC: slope over the last ${slopeSpan} s`,
        figure: `${slope.toFixed(2)} MB/min`,
        limit: `< ${SLOPE_LIMIT_MB_PER_MIN} MB/min`,
        holds: slope < SLOPE_LIMIT_MB_PER_MIN
      })),
      ...(Object.keys(start) as Array<keyof Counts>).map((key) => ({
        target: `${key} back to the start`, figure: String(end[key]), limit: `≤ ${start[key]}`, holds: end[key] <= start[key]
      }))
    ]
    Object.assign(results, {
      load: loadFigures,
      subscriptions: { outcomes, byTransport, failures },
      countsAtStart: start,
      countsAtEnd: end,
      slopes: { windowSeconds: slopeSpan, rssMbPerMinute: rssSlope, heapMbPerMinute: heapSlope },
      samples,
      targets
    })
    await mkdir(new URL('results/', import.meta.url), { recursive: true })
    const chart = new URL('results/soak.svg', import.meta.url)
    await writeFile(chart, svgChart(samples, rate))
    await writeFile(new URL('results/soak.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`)

    const rows = [['target', 'figure', 'limit', 'holds'], ...targets.map((target) => [target.target, target.figure, target.limit, target.holds ? 'yes' : 'NO'])]
    const widths = (rows[0] ?? []).map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)))
    process.stdout.write(`\nSoak: ${SECONDS} s, task page at ${rate} req/s (${Math.round(loadFigures.perSecond)} served, p50 ${loadFigures.p50} ms, ` +
      `p99 ${loadFigures.p99} ms), ${SUBSCRIPTIONS} subscriptions (${byTransport.ws} WebSocket, ${byTransport.sse} SSE; ` +
      `${outcomes.left} left, ${outcomes.expired} ended by their token's expiry, ${outcomes.error} errors), Visual Layer at ${LATENCY_MS} ms\n`)
    const pad = (cell: string, column: number): string => column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0)
    process.stdout.write(`${rows.map((row) => row.map(pad).join('   ')).join('\n')}\n`)
    if (failures.length > 0) process.stdout.write(`first failures:\n  ${failures.join('\n  ')}\n`)
    process.stdout.write(`\nFigures: ${new URL('results/soak.json', import.meta.url).pathname}\nChart: ${chart.pathname}\n`)
    if (loadFigures.errors > 0 || outcomes.error > 0) process.exitCode = 1
  } finally {
    await load.stop()
    await gateway.stop()
    await emulator.stop()
  }
}

/** RSS and heap after GC (left axis, MB) and open subscriptions (right axis) over time, as a small SVG. */
function svgChart (samples: Sample[], rate: number): string {
  const width = 720
  const height = 320
  const left = 56
  const right = 56
  const top = 36
  const bottom = 40
  const plotW = width - left - right
  const plotH = height - top - bottom
  const title = `Gateway soak: task page at ${rate} req/s, subscriptions coming and going (after a full GC every 10 s)`
  const maxT = Math.max(1, ...samples.map((point) => point.t))
  const maxMb = Math.ceil(Math.max(1, ...samples.map((point) => point.rssMb)) / 50) * 50
  const maxSubs = Math.max(10, ...samples.map((point) => point.subscriptions))
  const x = (t: number): number => left + (t / maxT) * plotW
  const yMb = (mb: number): number => top + plotH - (mb / maxMb) * plotH
  const ySubs = (n: number): number => top + plotH - (n / maxSubs) * plotH
  const line = (points: Array<[number, number]>): string =>
    points.map(([px, py], i) => `${i === 0 ? 'M' : 'L'}${px.toFixed(1)},${py.toFixed(1)}`).join(' ')
  const grid: string[] = []
  for (let i = 0; i <= 5; i++) {
    const mb = (maxMb / 5) * i
    grid.push(`<line x1="${left}" x2="${left + plotW}" y1="${yMb(mb)}" y2="${yMb(mb)}" stroke="#e5e7eb"/>`)
    grid.push(`<text x="${left - 6}" y="${yMb(mb) + 4}" text-anchor="end">${Math.round(mb)}</text>`)
    grid.push(`<text x="${left + plotW + 6}" y="${ySubs((maxSubs / 5) * i) + 4}">${Math.round((maxSubs / 5) * i)}</text>`)
  }
  for (let i = 0; i <= 5; i++) {
    const t = (maxT / 5) * i
    grid.push(`<text x="${x(t)}" y="${top + plotH + 16}" text-anchor="middle">${Math.round(t)}</text>`)
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11" fill="#374151">
<rect width="100%" height="100%" fill="#fff"/>
<text x="${left}" y="18" font-size="13" font-weight="bold">${title}</text>
${grid.join('\n')}
<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#9ca3af"/>
<path d="${line(samples.map((point) => [x(point.t), ySubs(point.subscriptions)]))}" fill="none" stroke="#d1d5db" stroke-width="1.5"/>
<path d="${line(samples.map((point) => [x(point.t), yMb(point.rssMb)]))}" fill="none" stroke="#2563eb" stroke-width="2"/>
<path d="${line(samples.map((point) => [x(point.t), yMb(point.heapMb)]))}" fill="none" stroke="#16a34a" stroke-width="2"/>
<text x="${left + plotW / 2}" y="${height - 6}" text-anchor="middle">seconds</text>
<text transform="translate(14 ${top + plotH / 2}) rotate(-90)" text-anchor="middle">MB</text>
<text transform="translate(${width - 10} ${top + plotH / 2}) rotate(90)" text-anchor="middle">open subscriptions</text>
<g transform="translate(${left + 10} ${top + 14})"><rect width="10" height="3" y="-4" fill="#2563eb"/><text x="14">RSS</text>
<rect x="50" width="10" height="3" y="-4" fill="#16a34a"/><text x="64">heap used</text>
<rect x="130" width="10" height="3" y="-4" fill="#d1d5db"/><text x="144">open subscriptions</text></g>
</svg>
`
}

main().catch((err: unknown) => {
  process.stderr.write(`soak failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
