/**
 * `npm run bench`: the gateway side by side with a bare Fastify route (the floor), a plain
 * graphql-yoga server with DataLoader and Apollo Server with a RESTDataSource, on the same operations
 * (bench/operations.ts: two the same for every request, two different for each), against the same emulator, each in
 * its own process, with the load generator (autocannon) in another (issues 14 and 27). See bench/README.md.
 *
 * For each upstream latency (BENCH_LATENCIES, default 20 and 0 ms per Visual Layer call), operation and
 * server: requests per second, p50 and p99, errors (a status other than 200 or an `errors` entry: the
 * run fails), upstream calls per request (the emulator's call log) and the CPU time of the server
 * process per request (utime + stime from /proc/<pid>/stat). BENCH_ROUNDS rounds, the servers in
 * alternating order; the table shows the mean and the spread (± standard deviation). Then the issue's
 * other targets: 500 concurrent identical dataset(id), upstream calls of one client alone, cold start
 * to first answer, idle RSS. Figures to stdout and bench/results/bench.json.
 *
 *   npm run bench
 *   BENCH_SECONDS=3 BENCH_ROUNDS=1 npm run bench      a quick check of the harness
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { Pool, request } from 'undici'
import { DEMO_ACCOUNTS } from '../src/emulator/index.js'
import { visualLayerToken } from '../test/helpers/tokens.js'
import { callOf, EXTRA_DATASETS, OPERATION_TITLES, OPERATIONS, QUERIES, sampleCalls, type HttpCall, type OperationName, type ServerName } from './operations.js'
import { spawnChild, type Child } from './scale/ipc.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? Math.min(3, SECONDS))
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50)
const LATENCIES = (process.env.BENCH_LATENCIES ?? '20,0').split(',').map(Number)
const BURST = 500
const ALONE_REQUESTS = 10
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim())

const ALL_SERVERS: ServerName[] = ['floor', 'yoga', 'apollo', 'gateway', 'before']
/** A directory of the repository with a build from before a change (e.g. `cp -r dist bench/results/dist-before`): server `before`. */
const GATEWAY_BEFORE = process.env.BENCH_GATEWAY_BEFORE ?? ''
/** More node flags for the gateway's process, e.g. BENCH_GATEWAY_NODE_FLAGS='--cpu-prof --cpu-prof-dir=/tmp/prof' for a CPU profile. */
const GATEWAY_NODE_FLAGS = (process.env.BENCH_GATEWAY_NODE_FLAGS ?? '').split(' ').filter((flag) => flag !== '')
/** BENCH_SERVERS=gateway measures one server alone (before/after a change); targets need all three. */
const DEFAULT_SERVERS = GATEWAY_BEFORE === '' ? 'floor,yoga,apollo,gateway' : 'before,gateway'
const SERVERS = (process.env.BENCH_SERVERS ?? DEFAULT_SERVERS).split(',').map((name) => name.trim()) as ServerName[]
const unknownServers = SERVERS.filter((name) => !ALL_SERVERS.includes(name))
if (unknownServers.length > 0 || SERVERS.length === 0) {
  throw new Error(`BENCH_SERVERS: a comma-separated list of ${ALL_SERVERS.join(', ')} (got ${JSON.stringify(process.env.BENCH_SERVERS)})`)
}
/** BENCH_OPERATIONS=taskPageSizes,distinctIds measures some operations only. */
const MEASURED = (process.env.BENCH_OPERATIONS ?? OPERATIONS.join(',')).split(',').map((name) => name.trim()) as OperationName[]
if (MEASURED.some((name) => !OPERATIONS.includes(name)) || MEASURED.length === 0) {
  throw new Error(`BENCH_OPERATIONS: a comma-separated list of ${OPERATIONS.join(', ')} (got ${JSON.stringify(process.env.BENCH_OPERATIONS)})`)
}

const SCRIPTS: Record<ServerName, string> = {
  floor: '../servers/floor.mjs',
  yoga: '../servers/yoga.mjs',
  apollo: '../servers/apollo.mjs',
  // The scale bench's gateway process: buildApp + loadConfig from dist/, as `npm start` runs it.
  gateway: './gateway.mjs',
  before: './gateway.mjs'
}

interface RunningServer { name: ServerName, child: Child, url: string, coldStartMs: number }

interface Sample {
  round: number
  requests: number
  sent: number
  perSecond: number
  p50: number
  p99: number
  errors: number
  firstFailure: string | null
  cpuMsPerRequest: number
  upstreamCallsPerRequest: number
}

/** utime + stime of a process, in ms, from /proc/<pid>/stat (fields 14 and 15, after the command name). */
function cpuMs (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS) * 1000
}

function rssMb (pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((row) => row.startsWith('VmRSS:')) ?? ''
  return Number(line.replace(/\D+/g, '')) / 1024
}

const headersOf = (token: string, call: HttpCall): Record<string, string> => ({
  authorization: `Bearer ${token}`,
  ...(call.body === undefined ? {} : { 'content-type': 'application/json' })
})

/** One answer, checked: 200 and no `errors` entry. */
async function ask (url: string, call: HttpCall, token: string): Promise<unknown> {
  const res = await request(`${url}${call.path}`, { method: call.method, headers: headersOf(token, call), body: call.body })
  const text = await res.body.text()
  if (res.statusCode !== 200 || text.includes('"errors"')) throw new Error(`${url}${call.path} answered ${res.statusCode}: ${text.slice(0, 500)}`)
  return JSON.parse(text)
}

function stats (values: number[]): { mean: number, sd: number, min: number, max: number } {
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length
  const sd = Math.sqrt(values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / Math.max(1, values.length - 1))
  return { mean, sd, min: Math.min(...values), max: Math.max(...values) }
}

const fixed = (value: number, digits: number): string => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })

async function main (): Promise<void> {
  const emulator = spawnChild('../servers/emulator.mjs', { EMULATOR_LATENCY_MS: String(LATENCIES[0] ?? 20), EMULATOR_EXTRA_DATASETS: String(EXTRA_DATASETS) })
  const emulatorUrl = String((await emulator.ready).url)
  const load = spawnChild('../load.mjs', {})
  await load.ready
  let latencyMs = 0
  const setLatency = async (latency: number): Promise<void> => {
    latencyMs = latency
    const res = await request(`${emulatorUrl}/_emulator/latency`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ latencyMs: latency })
    })
    if (res.statusCode !== 200) throw new Error(`the emulator refused latency ${latency}: ${await res.body.text()}`)
    await res.body.dump()
  }
  const upstreamCalls = async (): Promise<number> => (await emulator.ask<{ calls: number }>('callCount')).calls
  // One caller for the whole run: a Visual Layer token every server forwards (passthrough), valid for a day.
  const token = visualLayerToken(DEMO_ACCOUNTS.primary, { exp: Math.floor(Date.now() / 1000) + 86_400 })
  const results: Record<string, unknown> = {
    startedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, clockTicks: CLOCK_TICKS },
    settings: { seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, rounds: ROUNDS, connections: CONNECTIONS, latenciesMs: LATENCIES },
    queries: QUERIES
  }
  const servers: RunningServer[] = []
  let failed = false

  try {
    await setLatency(20)
    // Cold start to first answer and idle RSS, one server at a time so that their start-ups do not compete.
    const idle: Record<string, unknown> = {}
    for (const name of SERVERS) {
      const started = performance.now()
      const child = spawnChild(SCRIPTS[name], {
        VL_BASE_URL: emulatorUrl,
        AUTH_MODE: 'passthrough',
        LOG_LEVEL: 'error',
        RATE_LIMIT_PER_MINUTE: '0',
        RATE_LIMIT_MUTATIONS_PER_MINUTE: '0',
        // Measured at full load, never shed.
        LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
        ...(name === 'before' ? { SCALE_GATEWAY_BUILD: GATEWAY_BEFORE } : {})
      }, ['--expose-gc', ...(name === 'gateway' || name === 'before' ? GATEWAY_NODE_FLAGS : [])])
      const url = String((await child.ready).url)
      await ask(url, callOf(name, 'dataset'), token)
      const coldStartMs = performance.now() - started
      servers.push({ name, child, url, coldStartMs })
      await sleep(500)
      await child.ask('gc')
      const memory = await child.ask<{ memory: NodeJS.MemoryUsage }>('memory')
      idle[name] = { coldStartMs: Math.round(coldStartMs), idleRssMb: rssMb(child.pid), heapUsedMb: memory.memory.heapUsed / 2 ** 20 }
    }
    results.idle = idle

    // The same JSON from every server for each operation: the work compared is the same.
    const answers: Record<string, unknown> = {}
    for (const operation of OPERATIONS) {
      const first = servers[0] as RunningServer
      const references = sampleCalls(first.name, operation)
      for (const [sample, firstCall] of references.entries()) {
        const reference = JSON.stringify(await ask(first.url, firstCall, token))
        for (const server of servers) {
          const answer = JSON.stringify(await ask(server.url, sampleCalls(server.name, operation)[sample] as HttpCall, token))
          if (answer !== reference) {
            let at = 0
            while (answer[at] === reference[at]) at++
            throw new Error(`${server.name} answers ${operation} differently from ${first.name}, from character ${at}: ` +
              `${answer.slice(Math.max(0, at - 80), at + 80)} where ${first.name} has ${reference.slice(Math.max(0, at - 80), at + 80)}`)
          }
        }
        if (sample === 0) answers[operation] = JSON.parse(reference)
      }
    }
    const nodes = (answers.taskPage as { data: { tasks: { nodes: Array<{ dataset: { id: string } | null }> } } }).data.tasks.nodes
    const distinctDatasets = new Set(nodes.map((node) => node.dataset?.id)).size

    // One client alone, one request at a time: no sharing between requests can help.
    const alone: Record<string, Record<string, number>> = {}
    for (const server of servers) {
      alone[server.name] = {}
      for (const operation of ['dataset', 'taskPage'] as const) {
        await emulator.ask('clearCalls')
        for (let i = 0; i < ALONE_REQUESTS; i++) await ask(server.url, callOf(server.name, operation), token)
        ;(alone[server.name] as Record<string, number>)[operation] = (await upstreamCalls()) / ALONE_REQUESTS
      }
    }
    results.alone = { distinctDatasetsOnTheTaskPage: distinctDatasets, upstreamCallsPerRequest: alone }

    // BURST identical dataset(id) at once, each on its own connection.
    const burst: Record<string, number> = {}
    for (const server of servers) {
      const pool = new Pool(server.url, { connections: BURST })
      const call = callOf(server.name, 'dataset')
      const once = async (): Promise<void> => {
        await Promise.all(Array.from({ length: BURST }, async () => {
          const res = await pool.request({ method: call.method, path: call.path, headers: headersOf(token, call), body: call.body })
          const text = await res.body.text()
          if (res.statusCode !== 200 || text.includes('"errors"')) throw new Error(`${server.name} answered ${res.statusCode} in the burst: ${text.slice(0, 300)}`)
        }))
      }
      // The first burst opens the BURST connections; the second, on open connections, is the one counted.
      await once()
      await emulator.ask('clearCalls')
      await once()
      burst[server.name] = await upstreamCalls()
      await pool.close()
    }
    results.burst = { concurrent: BURST, upstreamCalls: burst }

    // The load: each latency, each operation, rounds in alternating order.
    const samples: Record<string, Record<string, Record<string, Sample[]>>> = {}
    const measure = async (server: RunningServer, operation: OperationName, seconds: number, round: number): Promise<Sample> => {
      const call = callOf(server.name, operation)
      await emulator.ask('clearCalls')
      const cpuBefore = cpuMs(server.child.pid)
      const figures = await load.ask<Omit<Sample, 'round' | 'cpuMsPerRequest' | 'upstreamCallsPerRequest'>>('run', {
        ...call, url: server.url, headers: headersOf(token, call), connections: CONNECTIONS, seconds
      })
      // The requests still in flight when the time was up finish (their upstream calls and CPU count), and
      // count as requests: per-request figures divide by every request sent.
      let calls = await upstreamCalls()
      for (let settled = 0; settled < 2;) {
        await sleep(150 + latencyMs)
        const now = await upstreamCalls()
        settled = now === calls ? settled + 1 : 0
        calls = now
      }
      const cpu = cpuMs(server.child.pid) - cpuBefore
      const sent = Math.max(1, figures.sent)
      return { ...figures, round, cpuMsPerRequest: cpu / sent, upstreamCallsPerRequest: calls / sent }
    }
    for (const latency of LATENCIES) {
      await setLatency(latency)
      const byOperation: Record<string, Record<string, Sample[]>> = {}
      samples[`${latency}`] = byOperation
      for (const operation of MEASURED) {
        const byServer: Record<string, Sample[]> = {}
        byOperation[operation] = byServer
        for (const server of servers) {
          byServer[server.name] = []
          if (WARMUP_SECONDS > 0) await measure(server, operation, WARMUP_SECONDS, 0)
        }
        for (let round = 1; round <= ROUNDS; round++) {
          // Alternating order: a server is not always the one measured after the same neighbour.
          const order = round % 2 === 1 ? servers : [...servers].reverse()
          for (const server of order) {
            const sample = await measure(server, operation, SECONDS, round)
            byServer[server.name]?.push(sample)
            process.stderr.write(`latency ${latency} ms · ${operation} · round ${round} · ${server.name}: ${Math.round(sample.perSecond)} req/s, ` +
              `p50 ${sample.p50} ms, CPU ${sample.cpuMsPerRequest.toFixed(3)} ms/req, ${sample.errors} errors\n`)
            if (sample.errors > 0) {
              failed = true
              process.stderr.write(`  first failure: ${sample.firstFailure ?? 'a socket error or timeout'}\n`)
            }
          }
        }
      }
    }
    results.samples = samples

    const summary = summarise(samples)
    results.summary = summary
    const targets = checkTargets(summary, burst, alone, distinctDatasets)
    results.targets = targets
    printTables(summary, targets, idle as Record<ServerName, { coldStartMs: number, idleRssMb: number, heapUsedMb: number }>, burst, alone, distinctDatasets)
    results.errorsFailTheRun = failed
  } finally {
    for (const server of servers) await server.child.stop()
    await load.stop()
    await emulator.stop()
  }
  await mkdir(new URL('results/', import.meta.url), { recursive: true })
  const file = new URL('results/bench.json', import.meta.url)
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`)
  process.stdout.write(`\nFigures: ${file.pathname}\n`)
  if (failed) {
    process.stderr.write('bench failed: some answers were errors (see above)\n')
    process.exit(1)
  }
}

type Figure = 'perSecond' | 'p50' | 'p99' | 'cpuMsPerRequest' | 'upstreamCallsPerRequest' | 'errors'
const FIGURES: Figure[] = ['perSecond', 'p50', 'p99', 'cpuMsPerRequest', 'upstreamCallsPerRequest', 'errors']
type Summary = Record<string, Record<string, Record<string, Record<Figure, ReturnType<typeof stats>>>>>

function summarise (samples: Record<string, Record<string, Record<string, Sample[]>>>): Summary {
  const summary: Summary = {}
  for (const [latency, byOperation] of Object.entries(samples)) {
    summary[latency] = {}
    for (const [operation, byServer] of Object.entries(byOperation)) {
      (summary[latency] as Summary[string])[operation] = {}
      for (const [server, list] of Object.entries(byServer)) {
        const figures = {} as Record<Figure, ReturnType<typeof stats>>
        for (const figure of FIGURES) figures[figure] = stats(list.map((sample) => sample[figure]))
        ;((summary[latency] as Summary[string])[operation] as Summary[string][string])[server] = figures
      }
    }
  }
  return summary
}

interface Target { target: string, figure: string, limit: string, holds: boolean | null }

function checkTargets (summary: Summary, burst: Record<string, number>, alone: Record<string, Record<string, number>>, distinct: number): Target[] {
  const targets: Target[] = []
  const mean = (latency: number, operation: OperationName, server: ServerName, figure: Figure): number | undefined =>
    summary[`${latency}`]?.[operation]?.[server]?.[figure].mean
  const compare = (target: string, figure: number | undefined, limit: number | undefined, atMost: boolean, unit: string, digits: number): void => {
    if (figure === undefined || limit === undefined) return
    targets.push({
      target,
      figure: `${fixed(figure, digits)}${unit}`,
      limit: `${atMost ? '≤' : '≥'} ${fixed(limit, digits)}${unit}`,
      holds: atMost ? figure <= limit : figure >= limit
    })
  }
  const below = (target: string, figure: number | undefined, limit: number | undefined, unit: string, digits: number): void => {
    if (figure === undefined || limit === undefined) return
    targets.push({ target, figure: `${fixed(figure, digits)}${unit}`, limit: `< ${fixed(limit, digits)}${unit}`, holds: figure < limit })
  }
  for (const latency of LATENCIES) {
    const at = `${latency} ms`
    const floorCpu = mean(latency, 'dataset', 'floor', 'cpuMsPerRequest')
    compare(`dataset(id) @${at}: CPU/request ≤ 1.5× the floor's`, mean(latency, 'dataset', 'gateway', 'cpuMsPerRequest'),
      floorCpu === undefined ? undefined : floorCpu * 1.5, true, ' ms', 3)
    const floorP50 = mean(latency, 'dataset', 'floor', 'p50')
    compare(`dataset(id) @${at}: p50 ≤ the floor's + 2 ms`, mean(latency, 'dataset', 'gateway', 'p50'),
      floorP50 === undefined ? undefined : floorP50 + 2, true, ' ms', 1)
    const share = latency === 0 ? 0.5 : 0.95
    const floorRps = mean(latency, 'dataset', 'floor', 'perSecond')
    compare(`dataset(id) @${at}: req/s ≥ ${share * 100} % of the floor's`, mean(latency, 'dataset', 'gateway', 'perSecond'),
      floorRps === undefined ? undefined : floorRps * share, false, '', 0)
    const yogaCpu = mean(latency, 'taskPage', 'yoga', 'cpuMsPerRequest')
    compare(`task page @${at}: CPU/request ≤ half of yoga's`, mean(latency, 'taskPage', 'gateway', 'cpuMsPerRequest'),
      yogaCpu === undefined ? undefined : yogaCpu / 2, true, ' ms', 3)
    below(`task page @${at}: p50 below yoga's`, mean(latency, 'taskPage', 'gateway', 'p50'), mean(latency, 'taskPage', 'yoga', 'p50'), ' ms', 1)
    below(`task page @${at}: p99 below yoga's`, mean(latency, 'taskPage', 'gateway', 'p99'), mean(latency, 'taskPage', 'yoga', 'p99'), ' ms', 1)
    // Issue 27: the cases no sharing between requests covers, as ratios of the same run's peers.
    const yogaSizesCpu = mean(latency, 'taskPageSizes', 'yoga', 'cpuMsPerRequest')
    compare(`page size per request @${at}: CPU/request ≤ 24 % of yoga's (0.5 of 2.11 ms)`, mean(latency, 'taskPageSizes', 'gateway', 'cpuMsPerRequest'),
      yogaSizesCpu === undefined ? undefined : yogaSizesCpu * 0.24, true, ' ms', 3)
    if (latency > 0) {
      compare(`page size per request @${at}: p50 ≤ two round trips + 8 ms`, mean(latency, 'taskPageSizes', 'gateway', 'p50'), 2 * latency + 8, true, ' ms', 1)
    }
    const floorDistinctCpu = mean(latency, 'distinctIds', 'floor', 'cpuMsPerRequest')
    compare(`distinct dataset(id) @${at}: CPU/request ≤ 1.9× the floor's (0.30 of 0.16 ms)`, mean(latency, 'distinctIds', 'gateway', 'cpuMsPerRequest'),
      floorDistinctCpu === undefined ? undefined : floorDistinctCpu * 1.9, true, ' ms', 3)
  }
  compare('task page, one client alone: upstream calls/request ≤ 1 + distinct datasets', alone.gateway?.taskPage, 1 + distinct, true, '', 1)
  compare(`${BURST} concurrent identical dataset(id): upstream calls ≤ 5`, burst.gateway, 5, true, '', 0)
  let errors = 0
  for (const byOperation of Object.values(summary)) {
    for (const byServer of Object.values(byOperation)) {
      for (const figures of Object.values(byServer)) errors += figures.errors.mean * ROUNDS
    }
  }
  targets.push({ target: 'errors in every run (all servers)', figure: String(Math.round(errors)), limit: '= 0', holds: errors === 0 })
  return targets
}

function table (rows: string[][]): string {
  const widths = (rows[0] ?? []).map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)))
  const pad = (cell: string, column: number): string => column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0)
  return rows.map((row) => row.map(pad).join('   ')).join('\n')
}

function printTables (
  summary: Summary,
  targets: Target[],
  idle: Record<ServerName, { coldStartMs: number, idleRssMb: number, heapUsedMb: number }>,
  burst: Record<string, number>,
  alone: Record<string, Record<string, number>>,
  distinct: number
): void {
  const spread = (figures: ReturnType<typeof stats>, digits: number): string => `${fixed(figures.mean, digits)} ±${fixed(figures.sd, digits)}`
  const out: string[] = []
  out.push(`\n${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node.js ${process.version}; ${CONNECTIONS} connections, ${ROUNDS} rounds × ${SECONDS} s ` +
    '(mean ±standard deviation); every server in passthrough with one caller token')
  // In the order run (integer-like keys would list 0 before 20).
  for (const latency of LATENCIES) {
    for (const [operation, byServer] of Object.entries(summary[`${latency}`] ?? {})) {
      out.push(`\nVisual Layer at ${latency} ms per call · ${OPERATION_TITLES[operation as OperationName]}`)
      const rows = [['server', 'req/s', 'p50 ms', 'p99 ms', 'CPU ms/req', 'upstream calls/req', 'errors']]
      for (const [server, figures] of Object.entries(byServer)) {
        rows.push([server, spread(figures.perSecond, 0), spread(figures.p50, 1), spread(figures.p99, 1), spread(figures.cpuMsPerRequest, 3),
          spread(figures.upstreamCallsPerRequest, 2), String(Math.round(figures.errors.mean * ROUNDS))])
      }
      out.push(table(rows))
    }
  }
  if (SERVERS.includes('before') && SERVERS.includes('gateway')) {
    out.push('\nThe change, same run: gateway (after) over before')
    const rows = [['latency · operation', 'CPU ms/req after / before', 'req/s after / before', 'p50 after / before']]
    for (const latency of LATENCIES) {
      for (const [operation, byServer] of Object.entries(summary[`${latency}`] ?? {})) {
        const after = byServer.gateway
        const before = byServer.before
        if (after === undefined || before === undefined) continue
        const ratio = (figure: Figure): string => fixed(after[figure].mean / before[figure].mean, 2)
        rows.push([`${latency} ms · ${operation}`, ratio('cpuMsPerRequest'), ratio('perSecond'), ratio('p50')])
      }
    }
    out.push(table(rows))
  }
  out.push('\nEach server once')
  const once = [['server', 'cold start to first answer', 'idle RSS (after GC)', `${BURST} concurrent dataset(id): upstream calls`,
    `one client alone: upstream calls/req (dataset · task page, ${distinct} datasets)`]]
  for (const server of SERVERS) {
    once.push([server, `${idle[server].coldStartMs} ms`, `${fixed(idle[server].idleRssMb, 1)} MB`, String(burst[server]),
      `${fixed(alone[server]?.dataset ?? 0, 1)} · ${fixed(alone[server]?.taskPage ?? 0, 1)}`])
  }
  out.push(table(once))
  out.push('\nTargets (issues 14 and 27)')
  const targetRows = targets.map((target) => [target.target, target.figure, target.limit, target.holds === true ? 'yes' : 'NO'])
  out.push(table([['target', 'gateway', 'limit', 'holds'], ...targetRows]))
  process.stdout.write(`${out.join('\n')}\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
