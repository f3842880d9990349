/**
 * How the poll leases spread over three replicas (issue 22): DATASETS (default 100) READY datasets,
 * each watched (`follow: true`) on every replica, in two orders: replica A's subscribers first and B's
 * and C's once A holds every lease (the order that left them all on A), then all three at once. Every
 * second it prints the leases each replica holds and the dataset polls it made in that second.
 *
 *   npx tsx bench/lease-spread.ts
 *   SPREAD_DATASETS=30 SPREAD_SECONDS=10 SPREAD_INTERVAL_MS=1000 npx tsx bench/lease-spread.ts
 *
 * In one process, from src/ (it measures where leases go, not CPU); Redis at TEST_REDIS_URL or
 * 127.0.0.1:6379, under a key prefix of its own that is deleted at the end. The replicas run with
 * the defaults but for POLL_INTERVAL_MS (SPREAD_INTERVAL_MS, default 2000) and MAX_POLLS_PER_SECOND
 * (SPREAD_MAX_POLLS, default 20, per replica).
 */
import type { Client } from 'graphql-ws'
import { startCluster, type TestCluster } from '../test/helpers/cluster.js'
import { datasetPollsBy, leasesHeld } from '../test/helpers/cluster-polls.js'
import { readyCopies } from '../test/helpers/datasets.js'
import type { TestGateway } from '../test/helpers/gateway.js'
import { record, wsClient, type Recorded } from '../test/helpers/ws.js'

const DATASETS = Number(process.env.SPREAD_DATASETS ?? 100)
const SECONDS = Number(process.env.SPREAD_SECONDS ?? 20)
const INTERVAL_MS = Number(process.env.SPREAD_INTERVAL_MS ?? 2000)
const MAX_POLLS = Number(process.env.SPREAD_MAX_POLLS ?? 20)
const PER_CONNECTION = 50

const query = (id: string): string => `subscription { datasetStatusChanged(datasetId: "${id}", follow: true) { id status } }`

function watch (replica: TestGateway, ids: readonly string[], clients: Client[]): Array<Recorded<unknown>> {
  const subs: Array<Recorded<unknown>> = []
  for (let from = 0; from < ids.length; from += PER_CONNECTION) {
    const client = wsClient(replica.url)
    clients.push(client)
    for (const id of ids.slice(from, from + PER_CONNECTION)) subs.push(record(client, query(id)))
  }
  return subs
}

async function sample (replicas: readonly TestGateway[], seconds: number): Promise<number[]> {
  let polls = await Promise.all(replicas.map(datasetPollsBy))
  let held: number[] = []
  for (let s = 1; s <= seconds; s++) {
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const now = await Promise.all(replicas.map(datasetPollsBy))
    held = await Promise.all(replicas.map(leasesHeld))
    console.log(`  ${String(s).padStart(3)} s   leases ${held.map((n) => String(n).padStart(3)).join(' /')}   polls in the second ${now.map((n, i) => String(n - (polls[i] ?? 0)).padStart(3)).join(' /')}`)
    polls = now
  }
  return held
}

async function run (order: 'A first' | 'all at once'): Promise<number[]> {
  const clients: Client[] = []
  const cluster: TestCluster = await startCluster({
    replicas: 3,
    env: { POLL_INTERVAL_MS: String(INTERVAL_MS), MAX_POLLS_PER_SECOND: String(MAX_POLLS), LOG_LEVEL: 'warn' }
  })
  try {
    const [a, b, c] = cluster.replicas as [TestGateway, TestGateway, TestGateway]
    const ids = await readyCopies(cluster.emulator, DATASETS)
    console.log(`\n${order}: ${DATASETS} datasets, each watched on the three replicas (POLL_INTERVAL_MS ${INTERVAL_MS}, MAX_POLLS_PER_SECOND ${MAX_POLLS})`)
    let subs: Array<Recorded<unknown>>
    if (order === 'A first') {
      const onA = watch(a, ids, clients)
      await Promise.all(onA.map(async (sub) => { await sub.received(1, 120_000) }))
      // Every poller of A asked at least once (under the poll ceiling a lease can lapse while its poller waits its turn).
      await new Promise((resolve) => setTimeout(resolve, 2 * INTERVAL_MS))
      console.log(`  A holds ${await leasesHeld(a)} leases, B and C none; B and C subscribe now`)
      subs = [...onA, ...watch(b, ids, clients), ...watch(c, ids, clients)]
    } else {
      subs = [a, b, c].flatMap((replica) => watch(replica, ids, clients))
    }
    await Promise.all(subs.map(async (sub) => { await sub.received(1, 120_000) }))
    const held = await sample(cluster.replicas, SECONDS)
    const repeated = subs.filter((sub) => sub.events.length !== 1).length
    console.log(`  subscribers with other than exactly one READY: ${repeated} of ${subs.length}`)
    return held
  } finally {
    await Promise.all(clients.map(async (client) => { await client.dispose() }))
    await cluster.close()
  }
}

const first = await run('A first')
const together = await run('all at once')
const share = DATASETS / 3
console.log(`\nfinal leases per replica: A first ${first.join('/')}, all at once ${together.join('/')} (a third: ${share.toFixed(1)})`)
