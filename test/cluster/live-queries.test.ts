import { afterEach, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import { describeWithRedis, redisRoundTrip, startCluster, type TestCluster } from '../helpers/cluster.js'
import { roundLog, type Round } from '../helpers/cluster-polls.js'
import { closeClients, keepClient, liveQueriesOf, liveQueriesSettled, liveSubscribers, openLive, resultOf, type LiveDoor, type LiveRecorded } from '../helpers/live-query.js'
import { AUTH_MODES, freshToken, modeEnv } from '../helpers/modes.js'
import { bearer } from '../helpers/sse.js'
import { wsClient } from '../helpers/ws.js'

/*
 * `@live` on a cluster: three replicas on one emulator and one Redis, 200 subscribers of one dataset
 * page (dataset, creation status, models, enrichment, its tasks) spread over them and over the three
 * doors, half asking for patches, in every auth mode with tokens that expire. The emulator's clock is
 * moved by the test, one step of the dataset's indexing at a time; polls are the pollers' round
 * events. The runs the replicas claimed are Redis' `live:run:*` keys: one per change (or per changes
 * heard together) that some replica executed for the cluster. A winner whose result has errors publishes
 * none usable, and the other replica executes for itself.
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

type Page = { dataset: { status: string, tasks: { nodes: Array<{ status: string }> } } }

describeWithRedis.each(AUTH_MODES)('@live on three replicas (AUTH_MODE=%s)', (mode) => {
  it('200 subscribers of the dataset page: one poll per resource per interval, one execution per change for the cluster, nothing when a poll saw none, the page a fresh query gives', async () => {
    cluster = await startCluster({
      replicas: 3,
      env: { ...modeEnv(mode), POLL_INTERVAL_MS: String(INTERVAL), POLL_MAX_INTERVAL_MS: String(INTERVAL), LIVE_QUERIES_PER_CALLER: '1000', SSE_MAX_STREAMS_PER_CALLER: '100' }
    })
    const { emulator, replicas, redis, prefix } = cluster
    const id = SEED.datasets.indexing
    const token = freshToken(mode, { ttlSec: 600 })
    const log = roundLog(replicas, id)
    const watching: LiveRecorded[][] = replicas.map((replica, i) => {
      const client = keepClient(wsClient(replica.url, token === null ? {} : { Authorization: `Bearer ${token}` }))
      const doors: LiveDoor[] = [...Array<LiveDoor>(i === 0 ? 48 : 46).fill('websocket'), ...Array<LiveDoor>(10).fill('sse'), ...Array<LiveDoor>(10).fill('http')]
      return doors.map((door, s) => openLive(door, replica, { query: LIVE_PAGE, variables: { id }, token, patches: s % 2 === 0 }, door === 'websocket' ? client : undefined))
    })
    const all = watching.flat()
    expect(all).toHaveLength(200)
    await Promise.all(all.map(async (sub) => { await sub.received(1) }))
    for (const [i, replica] of replicas.entries()) expect(liveQueriesOf(replica).size).toEqual({ executions: 1, subscribers: watching[i]?.length })

    // Settled in: a poll of each resource (dataset, tasks) that saw no change, every replica done executing.
    const unchanged = (kind: string) => (round: Round): boolean => round.outcome === 'unchanged' && round.key.startsWith(kind)
    await Promise.all([log.next('an unchanged dataset poll', unchanged('dataset')), log.next('an unchanged task poll', unchanged('tasks'))])
    await Promise.all(replicas.map(liveQueriesSettled))
    const counts = (): Array<{ reexecutions: number, shared: number, deliveries: number }> => replicas.map((replica) => ({ ...liveQueriesOf(replica).counts }))
    const messages = (): number[] => all.map((sub) => sub.messages.length)

    // Polls that see no change: no execution, no message, on any replica.
    const quiet = { counts: counts(), messages: messages() }
    const fromQuiet = log.polls().length
    for (let i = 0; i < 3; i++) await Promise.all([log.next('an unchanged dataset poll', unchanged('dataset')), log.next('an unchanged task poll', unchanged('tasks'))])
    await Promise.all(replicas.map(liveQueriesSettled))
    expect(log.polls().slice(fromQuiet).filter((round) => round.outcome === 'changed')).toEqual([])
    expect(counts()).toEqual(quiet.counts)
    expect(messages()).toEqual(quiet.messages)

    // The indexing, a step after each poll that saw a change, until the page shows it done.
    const from = log.polls().length
    const ready = async (sub: LiveRecorded): Promise<boolean> => {
      const page = (await resultOf(sub.messages)).data as Page
      return page.dataset.status === 'READY' && page.dataset.tasks.nodes.every((task) => task.status === 'COMPLETED')
    }
    const allReady = async (): Promise<boolean> => (await Promise.all(all.map(ready))).every(Boolean)
    let steps = 0
    for (; steps < 30 && !await allReady(); steps++) {
      emulator.advance(3000)
      // Two polls of each resource: the second began after the step.
      for (let i = 0; i < 2; i++) await Promise.all(['dataset', 'tasks'].map(async (kind) => await log.next(`a poll of the ${kind}`, (round) => round.outcome !== 'followed' && round.key.startsWith(kind))))
      await Promise.all(replicas.map(liveQueriesSettled))
    }
    await Promise.all(replicas.map(liveQueriesSettled))
    // Every subscriber shows it done (those that do not, with what they hold).
    const behind = (await Promise.all(all.map(async (sub, i) => await ready(sub) ? null : { subscriber: i, holds: await resultOf(sub.messages) }))).filter((entry) => entry !== null)
    expect(behind).toEqual([])
    log.close()

    // One poll of each resource per interval for the cluster: no more polls over the window than one poller
    // sleeping its shortest interval (with -10 % jitter) makes, and one more for a lease handed over (a holder
    // that could not renew in time on a busy machine); a poller on each replica would make three times as many.
    const polls = log.polls().slice(from)
    for (const kind of ['dataset', 'tasks']) {
      const times = polls.filter((round) => round.key.startsWith(kind)).map((round) => round.at)
      expect(times.length).toBeGreaterThanOrEqual(10)
      const window = (times.at(-1) ?? 0) - (times[0] ?? 0)
      expect(times.length).toBeLessThanOrEqual(Math.floor(window / (INTERVAL * 0.9)) + 2)
    }
    // One execution per change for the cluster: an execution is named by the values it starts from, claimed once and
    // executed once, by one replica; the others took its result. A step changes the dataset and its task list, which
    // a replica may hear in either order: at most one more execution a step (the other order's intermediate page),
    // where executing on each replica would make three per change.
    const changed = polls.filter((round) => round.outcome === 'changed').length
    const runs = (await redis.keys(`${prefix}live:run:*`)).length
    const now = counts()
    const executed = now.reduce((sum, c, i) => sum + c.reexecutions - (quiet.counts[i]?.reexecutions ?? 0), 0)
    const taken = now.reduce((sum, c, i) => sum + c.shared - (quiet.counts[i]?.shared ?? 0), 0)
    expect(runs).toBeGreaterThan(0)
    expect(executed).toBe(runs)
    expect(runs).toBeLessThanOrEqual(changed + steps)
    expect(taken).toBeGreaterThan(0)
    expect(executed + taken).toBeLessThanOrEqual(3 * runs)

    // Each subscriber: no result twice in a row; the subscribers of one replica got the same messages; every
    // one holds what a fresh query returns.
    const fresh = await replicas[0]?.gql(PAGE, { id }, bearer(token))
    for (const mine of watching) {
      const whole = mine.filter((_sub, s) => s % 2 === 1)
      for (const sub of whole) expect(sub.messages).toEqual(whole[0]?.messages)
      const texts = whole[0]?.messages.map((message) => JSON.stringify(message)) ?? []
      for (let i = 1; i < texts.length; i++) expect(texts[i]).not.toBe(texts[i - 1])
      for (const sub of mine) expect(await resultOf(sub.messages)).toEqual(fresh?.body)
    }
  }, 120_000)

  it('LIVE_QUERIES_PER_CALLER counts a caller\'s live queries over every replica', async () => {
    cluster = await startCluster({ replicas: 2, env: { ...modeEnv(mode), POLL_INTERVAL_MS: String(INTERVAL), LIVE_QUERIES_PER_CALLER: '2' } })
    const [a, b] = cluster.replicas
    if (a === undefined || b === undefined) throw new Error('two replicas')
    const token = freshToken(mode, { ttlSec: 600 })
    const query = 'query One($id: ID!) @live { dataset(id: $id) { id status } }'
    // passthrough: a token Visual Layer has accepted counts in its API key's lane (an unproven one in its address's until then).
    for (const replica of [a, b]) expect((await replica.gql(query, { id: SEED.datasets.ready }, bearer(token))).status).toBe(200)
    const first = openLive('websocket', a, { query, variables: { id: SEED.datasets.ready }, token })
    const second = openLive('sse', b, { query, variables: { id: SEED.datasets.readOnly }, token })
    await Promise.all([first.received(1), second.received(1)])
    for (const replica of [a, b]) {
      const third = openLive('http', replica, { query, variables: { id: SEED.datasets.partialIndex }, token })
      await third.done
      expect(third.messages).toEqual([{
        data: null,
        errors: [{
          message: 'Too many live queries: at most 2 per caller (LIVE_QUERIES_PER_CALLER). End one first, or run the query without @live.',
          extensions: { code: 'RATE_LIMITED', requestId: expect.any(String) }
        }]
      }])
    }
    first.stop()
    await liveSubscribers(a, 0)
    // The release sent to Redis has run once a later command on the same connection has.
    await redisRoundTrip(a)
    const again = openLive('websocket', b, { query, variables: { id: SEED.datasets.partialIndex }, token })
    await again.received(1)
    expect(again.messages[0]).toEqual({ data: { dataset: { id: SEED.datasets.partialIndex, status: 'PARTIAL_INDEX' } } })
  })

  it('a winner whose result has errors lets the other replica execute for itself', async () => {
    cluster = await startCluster({ replicas: 2, env: { ...modeEnv(mode), POLL_INTERVAL_MS: String(INTERVAL), POLL_MAX_INTERVAL_MS: String(INTERVAL) } })
    const { emulator, replicas, redis, prefix } = cluster
    const id = SEED.datasets.indexing
    const token = freshToken(mode, { ttlSec: 600 })
    const query = 'query Models($id: ID!) @live { dataset(id: $id) { id progress models { id } } }'
    const subs = replicas.map((replica) => openLive('websocket', replica, { query, variables: { id }, token }))
    await Promise.all(subs.map(async (sub) => { await sub.received(1) }))
    const log = roundLog(replicas, id)
    await log.next('an unchanged poll', (round) => round.outcome === 'unchanged')
    await Promise.all(replicas.map(liveQueriesSettled))
    const before = replicas.map((replica) => ({ ...liveQueriesOf(replica).counts }))
    // The next models read fails (not retried): whichever replica executes the change first gets an error in its result.
    emulator.injectFault({ method: 'GET', path: '/api/v1/enrichment/*/list_models', status: 404, body: { detail: 'Not Found' } })
    emulator.advance(3000)
    await Promise.all(subs.map(async (sub) => { await sub.received(2) }))
    await Promise.all(replicas.map(liveQueriesSettled))
    log.close()
    const after = replicas.map((replica) => ({ ...liveQueriesOf(replica).counts }))
    // One run claimed; both replicas executed it (the winner's result could not be taken); none taken.
    expect((await redis.keys(`${prefix}live:run:*`)).length).toBe(1)
    expect(after.map((c, i) => c.reexecutions - (before[i]?.reexecutions ?? 0))).toEqual([1, 1])
    expect(after.map((c, i) => c.shared - (before[i]?.shared ?? 0))).toEqual([0, 0])
    const seconds = subs.map((sub) => sub.messages[1] as { data?: { dataset?: { models?: unknown } }, errors?: unknown[] })
    expect(seconds.filter((message) => message.errors !== undefined)).toHaveLength(1)
    const good = seconds.find((message) => message.errors === undefined)
    expect(good?.data?.dataset?.models).toEqual([{ id: 'vl_image_captioner_v00' }, { id: 'vl_object_detector_v00' }, { id: 'vl_object_captioner_v00' }, { id: 'nvidia_face_detector_v00' }])
  })
})
