/**
 * `npm run bench:dashboard`: a dashboard polled by many clients (issue 27, response caching). DASHBOARD_CLIENTS
 * (1,000) clients, each on a connection of its own, ask GraphiQL's `Dashboard` query (every dataset with its
 * source, enrichment and models) every DASHBOARD_INTERVAL_MS (5,000) in all (autocannon's overall rate:
 * clients / interval, 200 a second by default), against the gateway with the response cache off
 * (RESPONSE_CACHE_TTL_MS=0) and on (DASHBOARD_TTL_MS, 2,000), both compiled from dist/ and running side by
 * side, the rounds alternating. Per round: upstream calls per request (the emulator's call log) and the
 * gateway's CPU per request (utime + stime from /proc/<pid>/stat), requests a second, p50 and p99, errors.
 * Processes as bench/run.ts (their paths relative to bench/scale/, where spawnChild lives): the emulator
 * (every call held DASHBOARD_LATENCY_MS, 20), each gateway, the load.
 *
 *   npm run bench:dashboard
 *   DASHBOARD_SECONDS=3 DASHBOARD_ROUNDS=1 DASHBOARD_WARMUP_SECONDS=1 npm run bench:dashboard      a quick check of the harness
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'
import { DEMO_ACCOUNTS } from '../src/emulator/index.js'
import { visualLayerToken } from '../test/helpers/tokens.js'
import { spawnChild, type Child } from './scale/ipc.js'

const CLIENTS = Number(process.env.DASHBOARD_CLIENTS ?? 1_000)
const INTERVAL_MS = Number(process.env.DASHBOARD_INTERVAL_MS ?? 5_000)
const TTL_MS = Number(process.env.DASHBOARD_TTL_MS ?? 2_000)
const SECONDS = Number(process.env.DASHBOARD_SECONDS ?? 30)
const WARMUP_SECONDS = Number(process.env.DASHBOARD_WARMUP_SECONDS ?? 5)
const ROUNDS = Number(process.env.DASHBOARD_ROUNDS ?? 3)
const LATENCY_MS = Number(process.env.DASHBOARD_LATENCY_MS ?? 20)
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim())
for (const [name, value] of Object.entries({ CLIENTS, INTERVAL_MS, TTL_MS, SECONDS, WARMUP_SECONDS, ROUNDS, LATENCY_MS })) {
  if (!Number.isFinite(value) || value < 0 || (value === 0 && !['WARMUP_SECONDS', 'LATENCY_MS'].includes(name))) throw new Error(`DASHBOARD_${name}: expected a positive number (got ${value})`)
}

/** GraphiQL's Dashboard example (src/transports/graphiql/browser/examples.ts). */
const DASHBOARD = `query Dashboard {
  datasets {
    id displayName status progress imageCount objectCount createdAt
    sourceDataset { displayName }
    enrichment { status applied { type model { name vendor } } }
  }
}`

type Mode = 'off' | 'on'
interface Gateway { mode: Mode, child: Child, url: string }
interface Sample {
  mode: Mode
  round: number
  requests: number
  perSecond: number
  p50: number
  p99: number
  errors: number
  firstFailure: string | null
  upstreamCallsPerRequest: number
  cpuMsPerRequest: number
}
interface LoadResult { requests: number, sent: number, perSecond: number, p50: number, p99: number, errors: number, firstFailure: string | null }

/** utime + stime of a process, in ms (/proc/<pid>/stat fields 14 and 15). */
function cpuMs (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS) * 1000
}

const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length)
const fixed = (value: number, digits: number): string => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })

async function main (): Promise<void> {
  const emulator = spawnChild('../servers/emulator.mjs', { EMULATOR_LATENCY_MS: String(LATENCY_MS) })
  const emulatorUrl = String((await emulator.ready).url)
  const load = spawnChild('../load.mjs', {})
  await load.ready
  // One caller: a Visual Layer token of the primary demo account, forwarded upstream (passthrough), valid for a day.
  const token = visualLayerToken(DEMO_ACCOUNTS.primary, { exp: Math.floor(Date.now() / 1000) + 86_400 })
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  const body = JSON.stringify({ query: DASHBOARD })
  const gateways: Gateway[] = []
  const samples: Sample[] = []
  try {
    for (const mode of ['off', 'on'] as const) {
      const child = spawnChild('./gateway.mjs', {
        VL_BASE_URL: emulatorUrl,
        AUTH_MODE: 'passthrough',
        LOG_LEVEL: 'error',
        RATE_LIMIT_PER_MINUTE: '0',
        LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
        RESPONSE_CACHE_TTL_MS: mode === 'on' ? String(TTL_MS) : '0'
      })
      gateways.push({ mode, child, url: String((await child.ready).url) })
    }
    // Both answer alike before anything is measured.
    const answers = await Promise.all(gateways.map(async ({ url }) => {
      const res = await request(`${url}/graphql`, { method: 'POST', headers, body })
      const text = await res.body.text()
      if (res.statusCode !== 200 || text.includes('"errors"')) throw new Error(`${url} answered ${res.statusCode}: ${text.slice(0, 300)}`)
      return text
    }))
    if (answers[0] !== answers[1]) throw new Error('the gateways with the cache off and on answered the dashboard differently')

    const run = async (gateway: Gateway, seconds: number): Promise<LoadResult> => await load.ask<LoadResult>('run', {
      url: gateway.url, method: 'POST', path: '/graphql', headers, body, connections: CLIENTS, seconds, overallRate: (CLIENTS * 1000) / INTERVAL_MS
    })
    for (const gateway of gateways) if (WARMUP_SECONDS > 0) await run(gateway, WARMUP_SECONDS)
    for (let round = 0; round < ROUNDS; round++) {
      for (const gateway of round % 2 === 0 ? gateways : [...gateways].reverse()) {
        await emulator.ask('clearCalls')
        const cpuBefore = cpuMs(gateway.child.pid)
        const result = await run(gateway, SECONDS)
        // The requests in flight at the end make their calls before both are read.
        await sleep(LATENCY_MS * 5 + 200)
        const cpu = cpuMs(gateway.child.pid) - cpuBefore
        const { calls } = await emulator.ask<{ calls: number }>('callCount')
        const { requests, perSecond, p50, p99, errors, firstFailure } = result
        const perRequest = { upstreamCallsPerRequest: calls / result.sent, cpuMsPerRequest: cpu / result.sent }
        samples.push({ mode: gateway.mode, round, requests, perSecond, p50, p99, errors, firstFailure, ...perRequest })
        process.stdout.write(`round ${round + 1}, cache ${gateway.mode}: ${requests} requests, ${calls} upstream calls, ${fixed(cpu, 0)} ms CPU\n`)
      }
    }
  } finally {
    await Promise.all([...gateways.map(async ({ child }) => { await child.stop() }), load.stop(), emulator.stop()])
  }
  report(samples)
  await mkdir(new URL('./results/', import.meta.url), { recursive: true })
  await writeFile(new URL('./results/dashboard.json', import.meta.url), JSON.stringify({
    startedAt: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      loadAverage: readFileSync('/proc/loadavg', 'utf8').trim()
    },
    settings: {
      clients: CLIENTS, intervalMs: INTERVAL_MS, ttlMs: TTL_MS, seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, rounds: ROUNDS, latencyMs: LATENCY_MS
    },
    samples
  }, null, 2))
  if (samples.some((sample) => sample.errors > 0)) {
    process.stderr.write(`errors: ${samples.find((sample) => sample.errors > 0)?.firstFailure ?? ''}\n`)
    process.exitCode = 1
  }
}

function report (samples: Sample[]): void {
  const of = (mode: Mode, field: keyof Sample): number => mean(samples.filter((sample) => sample.mode === mode).map((sample) => sample[field] as number))
  const rows = [['cache', 'req/s', 'p50 ms', 'p99 ms', 'upstream calls / request', 'CPU ms / request', 'errors']]
  for (const mode of ['off', 'on'] as const) {
    rows.push([
      mode, fixed(of(mode, 'perSecond'), 0), fixed(of(mode, 'p50'), 1), fixed(of(mode, 'p99'), 1),
      fixed(of(mode, 'upstreamCallsPerRequest'), 3), fixed(of(mode, 'cpuMsPerRequest'), 3), String(of(mode, 'errors'))
    ])
  }
  const ratio = (field: keyof Sample): string => fixed(of('on', field) / of('off', field), 2)
  rows.push(['on / off', ratio('perSecond'), ratio('p50'), ratio('p99'), ratio('upstreamCallsPerRequest'), ratio('cpuMsPerRequest'), ''])
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? []
  process.stdout.write(`\n${CLIENTS} clients, each asking the dashboard every ${INTERVAL_MS} ms; cache TTL ${TTL_MS} ms; Visual Layer at ${LATENCY_MS} ms; mean of ${ROUNDS} rounds of ${SECONDS} s\n`)
  for (const row of rows) process.stdout.write(`${row.map((cell, i) => cell.padStart(widths[i] ?? 0)).join('  ')}\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
