import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import { describeWithRedis, keyEvents, startCluster, type TestCluster } from '../helpers/cluster.js'
import type { TestGateway } from '../helpers/gateway.js'
import { nextCall } from '../helpers/wait.js'

/**
 * enrichDataset's idempotency records shared by three replicas on one Redis: the same key sent to
 * every replica at once makes exactly one POST upstream (counted in the emulator's call log), and all
 * answer with its result; a later duplicate on another replica replays it; another body is refused on
 * any replica; a refused first attempt is every concurrent duplicate's answer, and frees the key.
 */

const ENRICH = `mutation ($datasetId: ID!, $models: [EnrichmentModelInput!]!, $key: String) {
  enrichDataset(datasetId: $datasetId, models: $models, idempotencyKey: $key) { enrichedDatasetId sourceDataset { id status } }
}`
const ready = SEED.datasets.ready
const captioner = { type: 'CAPTION_IMAGES', modelId: SEED.models.imageCaptioner }
const detector = { type: 'OBJECT_DETECTION', modelId: SEED.models.objectDetector }
const ENRICH_PATH = '/api/v1/dataset/*/enrich_dataset'

describeWithRedis('idempotency keys across three replicas', () => {
  let cluster: TestCluster
  let replicas: TestGateway[]
  beforeAll(async () => {
    cluster = await startCluster({ replicas: 3 })
    replicas = cluster.replicas
  })
  afterAll(async () => { await cluster.close() })
  beforeEach(() => { cluster.emulator.reset() })

  const posts = (): number[] => cluster.emulator.calls({ method: 'POST', path: ENRICH_PATH }).map((call) => call.status)
  const enrich = async (replica: TestGateway, key: string, models: unknown[] = [captioner], requestId = 'req-idem'): Promise<Awaited<ReturnType<TestGateway['gql']>>> =>
    await replica.gql(ENRICH, { datasetId: ready, models, key }, { 'x-request-id': requestId })
  const restEnrich = async (replica: TestGateway, key: string, models: unknown[] = [captioner]): Promise<{ status: number, body: Record<string, unknown> }> => {
    const res = await fetch(`${replica.url}/v1/datasets/${ready}/enrichments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key, 'x-request-id': 'req-rest' },
      body: JSON.stringify({ models })
    })
    return { status: res.status, body: await res.json() as Record<string, unknown> }
  }

  it('GraphQL: the same key on all three at once makes one POST, and every replica answers its id; later duplicates replay it', async () => {
    // The POST is held, so that the other replicas' duplicates arrive while the first is in flight.
    cluster.emulator.injectFault({ method: 'POST', path: ENRICH_PATH, delayMs: 300 })
    const answers = await Promise.all(replicas.map(async (replica) => await enrich(replica, 'cluster-click')))
    expect(posts()).toEqual([200])
    const copy = (answers[0]?.body.data as { enrichDataset: { enrichedDatasetId: string } }).enrichDataset.enrichedDatasetId
    expect(copy).toMatch(/^[0-9a-f-]{36}$/)
    for (const answer of answers) {
      expect(answer.body).toEqual({ data: { enrichDataset: { enrichedDatasetId: copy, sourceDataset: { id: ready, status: 'READ_ONLY' } } } })
    }

    cluster.emulator.advance(1000)
    const later = await enrich(replicas[1] as TestGateway, 'cluster-click', [captioner])
    expect(later.body).toEqual({ data: { enrichDataset: { enrichedDatasetId: copy, sourceDataset: { id: ready, status: 'READ_ONLY' } } } })
    expect(posts()).toEqual([200])

    const other = await enrich(replicas[2] as TestGateway, 'cluster-click', [detector])
    expect(other.body).toEqual({
      data: null,
      errors: [{
        message: 'Argument idempotencyKey "cluster-click" was already used for another enrichment request (another dataset or other models); use a new key for a new request. Nothing was sent to Visual Layer.',
        locations: [{ line: 2, column: 3 }],
        path: ['enrichDataset'],
        extensions: { code: 'BAD_USER_INPUT', requestId: 'req-idem' }
      }]
    })
    expect(posts()).toEqual([200])
  })

  it('REST: the same Idempotency-Key on all three at once makes one POST and three equal 202s; another body is 422 on another replica', async () => {
    cluster.emulator.injectFault({ method: 'POST', path: ENRICH_PATH, delayMs: 300 })
    const answers = await Promise.all(replicas.map(async (replica) => await restEnrich(replica, 'rest-cluster')))
    expect(posts()).toEqual([200])
    const enrichedDatasetId = answers[0]?.body.enrichedDatasetId as string
    expect(enrichedDatasetId).toMatch(/^[0-9a-f-]{36}$/)
    for (const answer of answers) expect(answer).toEqual({ status: 202, body: { enrichedDatasetId, sourceDatasetId: ready } })

    expect(await restEnrich(replicas[2] as TestGateway, 'rest-cluster')).toEqual({ status: 202, body: { enrichedDatasetId, sourceDatasetId: ready } })
    expect(await restEnrich(replicas[1] as TestGateway, 'rest-cluster', [detector])).toEqual({
      status: 422,
      body: {
        type: 'urn:vl-gateway:problem:idempotency-key-reused',
        title: 'Idempotency-Key reused',
        status: 422,
        detail: 'Idempotency-Key "rest-cluster" was already used for another enrichment request (another dataset or other models); use a new key for a new request. Nothing was sent to Visual Layer.',
        code: 'BAD_USER_INPUT',
        requestId: 'req-rest'
      }
    })
    expect(posts()).toEqual([200])
  })

  it('gives the duplicates on other replicas the error of a refused first POST, and frees the key for a retry', async () => {
    cluster.emulator.injectFault({ method: 'POST', path: ENRICH_PATH, delayMs: 300, status: 409, body: { detail: 'Dataset is locked' } })
    const answers = await Promise.all(replicas.map(async (replica, i) => await enrich(replica, 'refused-everywhere', [captioner], `req-${i}`)))
    expect(posts()).toEqual([409])
    const message = `Dataset ${ready} cannot be enriched in its current state; Visual Layer says: Dataset is locked. Enrichment needs a READY dataset: check its status and try again when it is READY.`
    answers.forEach((answer, i) => {
      expect(answer.body).toEqual({
        data: null,
        errors: [{ message, locations: [{ line: 2, column: 3 }], path: ['enrichDataset'], extensions: { code: 'CONFLICT', requestId: `req-${i}`, upstream: { status: 409 } } }]
      })
    })

    const retried = await enrich(replicas[1] as TestGateway, 'refused-everywhere')
    expect((retried.body.data as { enrichDataset: { enrichedDatasetId: string } }).enrichDataset.enrichedDatasetId).toMatch(/^[0-9a-f-]{36}$/)
    expect(posts()).toEqual([409, 200])
  })

  it('keeps its records in Redis under the cluster\'s prefix, as digests, expiring with the window', async () => {
    const before = new Set(await cluster.redis.keys(`${cluster.prefix}idem:*`))
    await enrich(replicas[0] as TestGateway, 'visible-key')
    const keys = (await cluster.redis.keys(`${cluster.prefix}idem:*`)).filter((key) => !before.has(key))
    expect(keys.length).toBe(1)
    expect(keys[0]).toMatch(new RegExp(`^${cluster.prefix}idem:[A-Za-z0-9_-]{43}$`))
    const record = await cluster.redis.get(keys[0] as string) ?? ''
    expect(record).not.toContain('visible-key')
    const ttl = await cluster.redis.pttl(keys[0] as string)
    // IDEMPOTENCY_WINDOW_MS' default: a day.
    expect(ttl).toBeGreaterThan(86_400_000 - 60_000)
    expect(ttl).toBeLessThanOrEqual(86_400_000)
  })
})

describeWithRedis('an idempotency key whose first call\'s replica dies mid-write', () => {
  let cluster: TestCluster
  // Claims live three beats unrenewed: 3 s here, ample for the duplicate below to find the claim still there.
  beforeAll(async () => { cluster = await startCluster({ replicas: 2, env: { REDIS_HEARTBEAT_MS: '1000' } }) })
  afterAll(async () => { await cluster.close() })

  beforeEach(() => { cluster.emulator.reset() })

  it('renews the claim of a write longer than three beats: the duplicate waits for it rather than taking it for dead', async () => {
    const [r0, r1] = cluster.replicas as [TestGateway, TestGateway]
    // The POST is held by Visual Layer until its claim has been renewed four times, four beats on (over three, its
    // unrenewed life): five expiries set, the claim's own (SET PX) first.
    cluster.emulator.injectFault({ method: 'POST', path: ENRICH_PATH, hold: 'slow' })
    const renewals = keyEvents(cluster, 'expire', (key) => key.startsWith('idem:'), 5)
    await renewals.ready
    const arrived = nextCall(cluster.emulator, { method: 'POST', path: ENRICH_PATH, phase: 'arrived' })
    const first = r0.gql(ENRICH, { datasetId: ready, models: [captioner], key: 'slow' })
    await arrived
    const second = r1.gql(ENRICH, { datasetId: ready, models: [captioner], key: 'slow' })
    await renewals.happened
    expect(cluster.emulator.release('slow')).toBe(1)
    expect((await second).body).toEqual((await first).body)
    expect(cluster.emulator.calls({ method: 'POST', path: ENRICH_PATH }).map((call) => call.status)).toEqual([200])
  })

  it('lets the waiting duplicate on another replica say the outcome is unknown once the claim expires, with no second POST', async () => {
    const [r0, r1] = cluster.replicas as [TestGateway, TestGateway]
    // The POST is held by Visual Layer (its claim is made before it) until the duplicate has answered.
    cluster.emulator.injectFault({ method: 'POST', path: ENRICH_PATH, hold: 'orphan' })
    const arrived = nextCall(cluster.emulator, { method: 'POST', path: ENRICH_PATH, phase: 'arrived' })
    const first = r0.gql(ENRICH, { datasetId: ready, models: [captioner], key: 'orphan' })
    await arrived
    // Replica 0 is cut off from Redis (as a dead one is): its claim is no longer renewed, and its result never recorded.
    r0.app.redis?.commands.disconnect()
    const second = await r1.gql(ENRICH, { datasetId: ready, models: [captioner], key: 'orphan' }, { 'x-request-id': 'req-orphan' })
    expect(cluster.emulator.release('orphan')).toBe(1)
    expect(second.body).toEqual({
      data: null,
      errors: [{
        message: 'The first request with this idempotency key ended without a recorded outcome (the gateway replica handling it stopped), so whether an ' +
          'enriched copy is being built is unknown. Check the source dataset\'s enrichment tasks before trying again; the key is free again.',
        locations: [{ line: 2, column: 3 }],
        path: ['enrichDataset'],
        extensions: { code: 'UPSTREAM_UNAVAILABLE', requestId: 'req-orphan' }
      }]
    })
    // The first caller still gets its result; the lost record is logged.
    expect(((await first).body.data as { enrichDataset: { enrichedDatasetId: string } }).enrichDataset.enrichedDatasetId).toMatch(/^[0-9a-f-]{36}$/)
    expect(cluster.emulator.calls({ method: 'POST', path: ENRICH_PATH }).map((call) => call.status)).toEqual([200])
    expect(r0.logs.entries().filter((entry) => entry.component === 'idempotency').map((entry) => [entry.level, entry.msg])).toEqual([
      [50, 'Idempotency: the result of a write could not be recorded in Redis; a retry with its key will not be recognised']
    ])
  })
})
