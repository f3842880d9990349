import { randomUUID } from 'node:crypto'
import { setImmediate } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { afterEach, expect, it } from 'vitest'
import type { PollRoundMessage } from '../../src/domain/live/events.js'
import { ACCOUNT } from '../../src/domain/live/registry.js'
import type { AccountBaselineMessage } from '../../src/domain/webhooks/account-watcher.js'
import type { AttemptMessage, QueuedMessage } from '../../src/domain/webhooks/service.js'
import { DEMO_ACCOUNTS, SEED, startEmulator } from '../../src/emulator/index.js'
import { describeWithRedis, TEST_REDIS_URL } from '../helpers/cluster.js'
import { startGatewayOn, TEST_START, type TestGateway } from '../helpers/gateway.js'
import { ManualTime } from '../helpers/manual-time.js'
import { visualLayerToken } from '../helpers/tokens.js'
import { onChannel, when } from '../helpers/wait.js'
import { Receiver } from '../helpers/webhook-receiver.js'

/**
 * Three replicas on Redis, started at different times, each following the account's lists for a
 * webhook with no dataset filter: each replica derives the events of the changes it hears itself, and
 * two replicas that first saw a dataset at different polls derive the same id for the same change (the
 * id is made from the resource and the change), so each event is queued once in the cluster and
 * delivered once, with that id. Every replica's offer of an event to the queue is an event of its own
 * (visual-layer:webhooks:queued): the test waits for them, and for the attempts, never for time.
 */

const SOURCE = SEED.datasets.ready
const rounds = onChannel<PollRoundMessage>('visual-layer:live:round')
const attempts = onChannel<AttemptMessage>('visual-layer:webhooks:attempt')
const offers = onChannel<QueuedMessage>('visual-layer:webhooks:queued')
const baselines = onChannel<AccountBaselineMessage>('visual-layer:webhooks:account-baseline')

const closing: Array<() => Promise<void>> = []
afterEach(async () => { for (const close of closing.splice(0).reverse()) await close() })

interface Replica { gw: TestGateway, liveTime: ManualTime }

describeWithRedis('account-wide webhooks on three replicas', () => {
  it('delivers each event of a dataset once, with one id, whichever replicas saw it and since when', async () => {
    const prefix = `test:${randomUUID()}:`
    const emulator = await startEmulator({ clock: TEST_START })
    const time = new ManualTime()
    closing.push(async () => {
      await emulator.close()
      const redis = new Redis(TEST_REDIS_URL)
      const keys = await redis.keys(`${prefix}*`)
      if (keys.length > 0) await redis.del(...keys)
      redis.disconnect()
    })
    const replicas: Replica[] = []
    const offered: Array<QueuedMessage & { replica: number }> = []
    const stopOffers = offers((m) => {
      const replica = replicas.findIndex((r) => r.gw.app.webhooks === m.service)
      if (replica >= 0) offered.push({ ...m, replica })
    })
    /** The dataset list each replica took as its baseline (its first). */
    const firstLists = new Map<number, AccountBaselineMessage['datasets']>()
    const stopBaselines = baselines((m) => {
      const replica = replicas.findIndex((r) => r.gw.app.webhooks === m.owner)
      if (replica >= 0) firstLists.set(replica, m.datasets)
    })
    closing.push(async () => { stopOffers(); stopBaselines() })
    /** The copy's status in the replica's first list (upstream's spelling). */
    const firstSeen = (replica: number, id: string): string | null | undefined => firstLists.get(replica)?.find((d) => d.value.id === id)?.value.status_new
    /** A replica, once its account pollers have had their first round (a poll, or following another replica's). */
    const start = async (): Promise<Replica> => {
      const liveTime = new ManualTime()
      const gw = await startGatewayOn(emulator, {
        REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix, WEBHOOKS_ALLOW_PRIVATE_TARGETS: '127.0.0.1', POLL_INTERVAL_MS: '250', REDIS_HEARTBEAT_MS: '60000'
      }, { liveTime, webhooks: { time } })
      closing.push(async () => { await gw.close() })
      const replica = { gw, liveTime }
      replicas.push(replica)
      return replica
    }
    /** Rounds (polls, or following another replica's) the account's pollers of each replica have ended. */
    const ended = new Map<object, number>()
    const stopRounds = rounds((m) => { if (m.datasetId === ACCOUNT) ended.set(m.registry, (ended.get(m.registry) ?? 0) + 1) })
    closing.push(async () => { stopRounds() })
    /**
     * The emulator moves 2.5 s; each poller whose timer falls due in 1 s of its replica's time ends its
     * round. The pollers' are the only timers that run: the replicas' heartbeat (on the same time) is a
     * minute away, and the test moves each replica's time by at most 50 s.
     */
    let steps = 0
    const step = async (): Promise<void> => {
      if (++steps > 50) throw new Error('50 steps of time, and the enrichment is not done')
      emulator.advance(2_500)
      for (const { gw, liveTime } of replicas) {
        const before = ended.get(gw.app.live) ?? 0
        const ran = liveTime.advance(1_000)
        await when('the rounds of the pollers woken', rounds, () => (ended.get(gw.app.live) ?? 0) >= before + ran)
      }
    }
    const offeredBy = (replica: number, match: (m: QueuedMessage) => boolean): boolean => offered.some((m) => m.replica === replica && match(m))
    /** Resolves once the account's two pollers of `gw` have ended a round each (counted from their start: no round is missed). */
    const baseline = async (gw: TestGateway): Promise<void> => {
      await when('the first rounds of the account\'s pollers', rounds, () => (ended.get(gw.app.live) ?? 0) >= 2)
    }
    const stepUntil = async (done: () => boolean): Promise<void> => {
      while (!done()) await step()
    }

    const receiver = await Receiver.start()
    closing.push(async () => { await receiver.close() })
    const a = await start()
    const res = await fetch(`${a.gw.url}/v1/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiver.url, events: ['dataset.status_changed', 'dataset.ready', 'enrichment.completed'] })
    })
    const created = await res.json() as { id: string, secret: string, datasetIds: unknown }
    expect([res.status, created.datasetIds]).toEqual([201, null])
    receiver.secrets.push(created.secret)
    await baseline(a.gw)

    // A copy made by Visual Layer itself: the replicas find it in the account's dataset list.
    const enriched = await fetch(`${emulator.url}/api/v1/dataset/${SOURCE}/enrich_dataset`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${visualLayerToken(DEMO_ACCOUNTS.primary, {}, emulator.now())}` },
      body: JSON.stringify({ enrichment_models: { CAPTION_IMAGES: 'vl_image_captioner_v00' } })
    })
    expect(enriched.status).toBe(200)
    const copy = (await enriched.json() as { dataset_id: string }).dataset_id
    const resource = `dataset ${copy}`
    // Replica a sees the copy appear (DRAFT); b starts after, c once the copy is INDEXING: each first saw it
    // at a later poll than a (its first list, taken as it heard a poll or polled itself, had it already).
    await stepUntil(() => offeredBy(0, (m) => m.resource === resource))
    await baseline((await start()).gw)
    await stepUntil(() => firstLists.has(1) && offered.filter((m) => m.resource === resource && m.eventType === 'dataset.status_changed' && m.queued).length === 2)
    await baseline((await start()).gw)
    await stepUntil(() => firstLists.has(2))
    expect([firstSeen(0, copy), firstSeen(2, copy)]).toEqual([undefined, 'INDEXING'])
    expect(['DRAFT', 'INDEXING']).toContain(firstSeen(1, copy))
    const completedBy = (replica: number): boolean => offeredBy(replica, (m) => m.eventType === 'enrichment.completed')
    await stepUntil(() => completedBy(0) || completedBy(1) || completedBy(2))
    // Whichever polled, the others hear the change (on Redis) and derive its events too.
    await when('every replica to offer enrichment.completed', offers, () => completedBy(0) && completedBy(1) && completedBy(2))

    // Every event queued is delivered (the receiver answers 200), once.
    const queuedIds = new Set(offered.filter((m) => m.queued).map((m) => m.eventId))
    await when('every queued event delivered', attempts, () => new Set(receiver.received.map((got) => got.event.id)).size >= queuedIds.size)
    await setImmediate()
    const events = receiver.received.map((got) => got.event)
    expect(receiver.received.filter((got) => got.verifiedBy.length !== 1 || got.headers['webhook-id'] !== got.event.id)).toEqual([])
    expect(events.map((event) => event.id).sort()).toEqual([...queuedIds].sort())
    // Each id queued by one replica alone; the copy's, as the receiver got them.
    const queuers = (id: string): number => offered.filter((m) => m.eventId === id && m.queued).length
    expect(events.filter((event) => queuers(event.id) !== 1)).toEqual([])
    expect(events.filter((event) => event.data.dataset.id === copy).map((event) => [event.type, event.data.previousStatus, event.data.status])).toEqual([
      ['dataset.status_changed', null, 'DRAFT'],
      ['dataset.status_changed', 'DRAFT', 'INDEXING'],
      ['dataset.status_changed', 'INDEXING', 'READY'],
      ['dataset.ready', undefined, undefined],
      ['enrichment.completed', undefined, undefined]
    ])
    // The changes all three replicas saw (after c started): each offered by all three with one id, queued once.
    for (const type of ['dataset.ready', 'enrichment.completed']) {
      const offers = offered.filter((m) => m.resource === resource && m.eventType === type)
      expect(offers.map((m) => m.replica).sort()).toEqual([0, 1, 2])
      expect(new Set(offers.map((m) => m.eventId)).size).toBe(1)
      expect(offers.filter((m) => m.queued)).toHaveLength(1)
    }
    // Its DRAFT → INDEXING: offered by a, and by b when b first saw the copy at DRAFT; its announcement by a alone.
    const draftToIndexing = events.find((event) => event.data.dataset.id === copy && event.data.previousStatus === 'DRAFT')?.id
    const announced = events.find((event) => event.data.dataset.id === copy && event.data.previousStatus === null)?.id
    await when('the offers of DRAFT → INDEXING', offers, () => offeredBy(0, (m) => m.eventId === draftToIndexing) &&
      (firstSeen(1, copy) !== 'DRAFT' || offeredBy(1, (m) => m.eventId === draftToIndexing)))
    expect(offered.filter((m) => m.eventId === draftToIndexing).map((m) => m.replica).sort()).toEqual(firstSeen(1, copy) === 'DRAFT' ? [0, 1] : [0])
    expect(offered.filter((m) => m.eventId === announced).map((m) => m.replica)).toEqual([0])
  })
})
