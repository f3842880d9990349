import { afterEach, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import { describeWithRedis, startCluster, type TestCluster } from '../helpers/cluster.js'
import { pollLog, pollsByReplica } from '../helpers/cluster-polls.js'
import { closeClients, keepClient, liveQueriesOf, openLive, resultOf, type LiveRecorded } from '../helpers/live-query.js'
import { AUTH_MODES, freshToken, modeEnv } from '../helpers/modes.js'
import { bearer } from '../helpers/sse.js'
import { until, wsClient } from '../helpers/ws.js'

/*
 * `@live` on a cluster: three replicas on one emulator and one Redis, 150 subscribers of one dataset
 * page spread over them, in every auth mode with tokens that expire. The pollers' leases make one
 * replica poll each resource for the cluster; each replica executes the query again once per change
 * for all its subscribers, from the value the poll brought (no GET of the dataset of its own). Polls
 * are timed on the wall clock, as in live-fanout.test.ts.
 */

const INTERVAL = 300
const LIVE_PAGE = `query DatasetPage($id: ID!) @live { dataset(id: $id) {
  id status progress creationStatus { status progress } models { id } enrichment { id status }
  tasks(pageSize: 20) { total nodes { id type status progress } }
} }`
const PAGE = LIVE_PAGE.replace(' @live', '')

let cluster: TestCluster | undefined
afterEach(async () => {
  await closeClients()
  await cluster?.close()
  cluster = undefined
})

describeWithRedis.each(AUTH_MODES)('@live on three replicas (AUTH_MODE=%s)', (mode) => {
  it('150 subscribers of the dataset page: one poll of the dataset per interval for the cluster, one execution per change on each replica, the same page for all', async () => {
    cluster = await startCluster({ replicas: 3, env: { ...modeEnv(mode), POLL_INTERVAL_MS: String(INTERVAL), WS_MAX_CONNECTIONS_PER_CALLER: '50', LIVE_QUERIES_PER_CALLER: '1000' } })
    const { emulator, replicas } = cluster
    const id = SEED.datasets.indexing
    const token = freshToken(mode, { ttlSec: 600 })
    const log = pollLog(emulator, id)
    const watching: LiveRecorded[][] = []
    for (const replica of replicas) {
      const client = keepClient(wsClient(replica.url, token === null ? {} : { Authorization: `Bearer ${token}` }))
      const mine: LiveRecorded[] = []
      for (let s = 0; s < 50; s++) mine.push(openLive('websocket', replica, { query: LIVE_PAGE, variables: { id }, token, patches: s % 2 === 0 }, client))
      watching.push(mine)
    }
    const all = watching.flat()
    await Promise.all(all.map(async (sub) => { await sub.received(1) }))
    for (const replica of replicas) expect(liveQueriesOf(replica).size).toEqual({ executions: 1, subscribers: 50 })

    const polls = (): number => log.times.length
    // Settled in: two more polls of the dataset than the three first executions' reads.
    await until(() => polls() >= 3 + 2)
    const from = polls()
    const before = await pollsByReplica(replicas)
    const executedBefore = replicas.map((replica) => liveQueriesOf(replica).counts.reexecutions)
    const ready = async (sub: LiveRecorded): Promise<boolean> => {
      const page = (await resultOf(sub.messages)).data as { dataset: { status: string, tasks: { nodes: Array<{ status: string }> } } }
      return page.dataset.status === 'READY' && page.dataset.tasks.nodes.every((task) => task.status === 'COMPLETED')
    }
    const allReady = async (): Promise<boolean> => (await Promise.all(all.map(ready))).every(Boolean)
    for (let step = 0; step < 30 && !await allReady(); step++) {
      emulator.advance(3000)
      const seen = polls()
      await until(async () => await allReady() || polls() > seen, 10_000, 5)
    }
    expect(await allReady()).toBe(true)
    const after = await pollsByReplica(replicas)
    log.close()

    // The replicas took turns at most (leases spread over them): never two polls within half an interval,
    // and every GET of the dataset was a poll (the executions again took the dataset from the polls).
    const grew = after.map((count, i) => count - (before[i] ?? 0))
    const window = log.times.slice(from)
    const polled = grew.reduce((sum, n) => sum + n, 0)
    expect(polled).toBeGreaterThanOrEqual(window.length - 1)
    expect(polled).toBeLessThanOrEqual(window.length + 1)
    expect(window.length).toBeGreaterThanOrEqual(5)
    const gaps = window.slice(1).map((t, i) => t - (window[i] ?? t))
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(INTERVAL * 0.5)

    // Each replica executed again for its 50 subscribers together: at most once per change the polls brought.
    const changes = window.length
    for (const [i, replica] of replicas.entries()) {
      const executed = liveQueriesOf(replica).counts.reexecutions - (executedBefore[i] ?? 0)
      expect(executed).toBeGreaterThan(0)
      expect(executed).toBeLessThanOrEqual(2 * changes)
    }
    // The subscribers of one replica got the same messages; every one holds what a fresh query returns.
    const fresh = await replicas[0]?.gql(PAGE, { id }, bearer(token))
    for (const mine of watching) {
      const whole = mine.filter((_sub, s) => s % 2 === 1)
      for (const sub of whole) expect(sub.messages).toEqual(whole[0]?.messages)
      for (const sub of mine) expect(await resultOf(sub.messages)).toEqual(fresh?.body)
    }
  }, 60_000)
})
