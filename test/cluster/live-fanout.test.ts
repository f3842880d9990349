import { afterEach, expect, it } from 'vitest'
import type { Client as SseClient } from 'graphql-sse'
import type { Client } from 'graphql-ws'
import { SEED } from '../../src/emulator/index.js'
import { describeWithRedis, startCluster, type TestCluster } from '../helpers/cluster.js'
import { pollsByReplica, roundLog, type StatusEvent } from '../helpers/cluster-polls.js'
import { AUTH_MODES, freshToken, modeEnv } from '../helpers/modes.js'
import { bearer, recordSse, sseClient } from '../helpers/sse.js'
import { record, wsClient } from '../helpers/ws.js'

/*
 * One poller for the whole cluster: three replicas on one emulator and one Redis, 300 subscribers of
 * one enriched dataset spread over them (WebSocket and SSE), in every auth mode with tokens that
 * expire. The emulator's clock is moved by the test, a step after each poll; polls are the pollers'
 * round events, timed in the process they run in (test/helpers/cluster-polls.ts). Two pollers of one
 * resource at one interval would poll less than half an interval apart at least once an interval,
 * whatever their phase; one poller's polls are never closer than its sleep, however late its timers
 * fire on a busy machine.
 */

const INTERVAL = 300
const statusQuery = (id: string): string => `subscription { datasetStatusChanged(datasetId: "${id}") { id status progress } }`
interface Watching { events: Array<{ data?: StatusEvent | null }>, done: Promise<void>, received: (count: number, timeoutMs?: number) => Promise<void> }

let cluster: TestCluster | undefined
const ws: Client[] = []
const sse: Array<SseClient<boolean>> = []
afterEach(async () => {
  for (const client of sse.splice(0)) client.dispose()
  await Promise.all(ws.splice(0).map(async (client) => { await client.dispose() }))
  await cluster?.close()
  cluster = undefined
})

describeWithRedis.each(AUTH_MODES)('one poller for the cluster (AUTH_MODE=%s)', (mode) => {
  it('300 subscribers over three replicas, WebSocket and SSE, while an enrichment runs: one upstream poll per interval, the same ordered states to READY for all, each once', async () => {
    cluster = await startCluster({
      replicas: 3,
      env: { ...modeEnv(mode), POLL_INTERVAL_MS: String(INTERVAL), WS_MAX_CONNECTIONS_PER_CALLER: '50', SSE_MAX_STREAMS_PER_CALLER: '50' }
    })
    const { emulator, replicas } = cluster
    // One caller: its token (passthrough: one Visual Layer account's) on every connection.
    const token = freshToken(mode, { ttlSec: 600 })
    const headers = bearer(token)
    const enriched = await replicas[0]?.gql(
      `mutation { enrichDataset(datasetId: "${SEED.datasets.ready}", models: [{ type: "CAPTION_IMAGES", modelId: "vl_image_captioner_v00" }]) { enrichedDatasetId } }`,
      {}, headers
    )
    const id = (enriched?.body.data as { enrichDataset: { enrichedDatasetId: string } }).enrichDataset.enrichedDatasetId
    expect(id).toMatch(/^[0-9a-f-]{36}$/)

    const log = roundLog(replicas, id)
    const watching: Watching[] = []
    for (const replica of replicas) {
      for (let c = 0; c < 2; c++) {
        const client = wsClient(replica.url, token === null ? {} : { Authorization: `Bearer ${token}` })
        ws.push(client)
        for (let s = 0; s < 40; s++) watching.push(record<StatusEvent>(client, statusQuery(id)))
      }
      const stream = sseClient(replica.url, true, headers)
      sse.push(stream)
      for (let s = 0; s < 20; s++) watching.push(recordSse<StatusEvent>(stream, statusQuery(id)))
    }
    expect(watching).toHaveLength(300)
    await Promise.all(watching.map(async (sub) => { await sub.received(1, 20_000) }))

    // Settled in: two more polls (passthrough: each replica proves the token with a poll of its own first).
    const isPoll = (round: { outcome: string }): boolean => round.outcome !== 'followed'
    for (let i = 0; i < 2; i++) await log.next('a poll', isPoll)
    const from = log.polls().length
    const before = await pollsByReplica(replicas)
    // A step of the enrichment after each poll, until every subscription has ended (after READY; its poller then stops).
    const ended = Promise.all(watching.map(async (sub) => { await sub.done })).then(() => null)
    for (let step = 0; step < 30; step++) {
      emulator.advance(3000)
      if (await Promise.race([log.next('a poll', isPoll), ended]) === null) break
    }
    await ended
    const after = await pollsByReplica(replicas)
    log.close()

    // One poll for all three replicas per interval: one replica polls at a time, whichever it is. (A holder that
    // could not renew its lease in time, on a machine busy with other work, hands the polling to another replica:
    // beside another full run, two hand-overs in one window were seen, and three replicas had polled, one after
    // another.) Three replicas polling for themselves would poll three times as often as the rate below allows.
    const grew = after.map((count, i) => count - (before[i] ?? 0))
    expect(grew.filter((n) => n > 0).length).toBeGreaterThanOrEqual(1)
    const window = log.polls().slice(from).map((round) => round.at)
    expect(window.length).toBeGreaterThanOrEqual(5)
    // At most one poll per interval (jitter makes one as short as 0.9 of it) over the window's span, and one
    // more for a hand-over. A rate, not the smallest gap: a poll the busy machine started late is followed by
    // one on time, closer than an interval, and that is still one poll per interval.
    const span = (window.at(-1) ?? 0) - (window[0] ?? 0)
    expect(window.length - 1).toBeLessThanOrEqual(Math.floor(span / (INTERVAL * 0.9)) + 1)

    // The same ordered states for all 300, no state twice in a row, READY last and only there.
    const sequence = watching[0]?.events.map((event) => event.data?.datasetStatusChanged)
    for (const sub of watching) expect(sub.events.map((event) => event.data?.datasetStatusChanged)).toEqual(sequence)
    expect(sequence?.length).toBeGreaterThanOrEqual(3)
    expect(sequence?.at(-1)).toEqual({ id, status: 'READY', progress: 100 })
    expect(sequence?.filter((state) => state?.status === 'READY')).toHaveLength(1)
    for (let i = 1; i < (sequence?.length ?? 0); i++) expect(JSON.stringify(sequence?.[i])).not.toBe(JSON.stringify(sequence?.[i - 1]))
  }, 60_000)
})
