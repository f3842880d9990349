import { setTimeout as sleep } from 'node:timers/promises'
import { createSigner } from 'fast-jwt'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { DEMO_ACCOUNTS, SEED } from '../../src/emulator/index.js'
import { IdempotencyStore } from '../../src/domain/enrichment/idempotency.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { visualLayerToken } from '../helpers/tokens.js'
import { nextCall, when } from '../helpers/wait.js'

/**
 * enrichDataset's idempotencyKey: a repeat or a concurrent duplicate from the same credential scope
 * gets the first call's result with no second POST, counted in the emulator's call log.
 */

const ENRICH = `mutation ($datasetId: ID!, $models: [EnrichmentModelInput!]!, $key: String) {
  enrichDataset(datasetId: $datasetId, models: $models, idempotencyKey: $key) { enrichedDatasetId sourceDataset { id status } }
}`
const ready = SEED.datasets.ready
const captioner = { type: 'CAPTION_IMAGES', modelId: SEED.models.imageCaptioner }
const detector = { type: 'OBJECT_DETECTION', modelId: SEED.models.objectDetector }

type Answer = Awaited<ReturnType<TestGateway['gql']>>
const copyOf = (res: Answer): string => (res.body.data as { enrichDataset: { enrichedDatasetId: string } }).enrichDataset.enrichedDatasetId
const success = (copy: string, status = 'READ_ONLY'): unknown => ({ data: { enrichDataset: { enrichedDatasetId: copy, sourceDataset: { id: ready, status } } } })

describe('idempotencyKey (AUTH_MODE none: one service scope)', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway({ UPSTREAM_TIMEOUT_MS: '500' }) })
  afterAll(async () => { await gw.close() })
  beforeEach(() => { gw.emulator.reset() })

  const enrich = async (key: string | null, models: unknown[] = [captioner], datasetId: string = ready): Promise<Answer> =>
    await gw.gql(ENRICH, { datasetId, models, key }, { 'x-request-id': 'req-idem' })
  const posts = (): number => gw.emulator.calls({ method: 'POST', path: '/api/v1/dataset/*/enrich_dataset' }).length

  it('answers a repeat with the first result and no second POST, although the source is no longer READY', async () => {
    const first = await enrich('click-1')
    const copy = copyOf(first)
    expect(first.body).toEqual(success(copy))
    gw.emulator.advance(1000)
    const second = await enrich('click-1', [captioner])
    expect(second.body).toEqual(success(copy))
    expect(posts()).toBe(1)
    // The repeat reads the source (the pre-flight's first step, and the fresh payload): never list_models again.
    expect(gw.emulator.calls().map((c) => `${c.method} ${c.path}`)).toEqual([
      `GET /api/v1/dataset/${ready}`,
      `GET /api/v1/enrichment/${ready}/list_models`,
      `POST /api/v1/dataset/${ready}/enrich_dataset`,
      `GET /api/v1/dataset/${ready}`,
      `GET /api/v1/dataset/${ready}`,
      `GET /api/v1/dataset/${ready}`
    ])
  })

  it('treats the same models in another order as the same request', async () => {
    const first = await enrich('order', [captioner, detector])
    const second = await enrich('order', [detector, captioner])
    expect(copyOf(second)).toBe(copyOf(first))
    expect(posts()).toBe(1)
  })

  it('makes exactly one POST for concurrent duplicates, and gives all of them its result', async () => {
    // The POST is held, so that every duplicate arrives while the first is in flight.
    gw.emulator.injectFault({ method: 'POST', path: '/api/v1/dataset/*/enrich_dataset', delayMs: 200 })
    const answers = await Promise.all(Array.from({ length: 5 }, async () => await enrich('double-click')))
    const copy = copyOf(answers[0] as Answer)
    for (const res of answers) expect(res.body).toEqual(success(copy))
    expect(posts()).toBe(1)
    expect(gw.emulator.calls({ path: '/api/v1/dataset/*/enrich_dataset' }).map((c) => c.status)).toEqual([200])
  })

  it('gives every concurrent duplicate the error of a refused POST, and sends it once', async () => {
    gw.emulator.injectFault({ method: 'POST', path: '/api/v1/dataset/*/enrich_dataset', delayMs: 200, status: 409, body: { detail: 'Dataset is locked' } })
    const answers = await Promise.all(Array.from({ length: 3 }, async () => await enrich('refused-together')))
    for (const res of answers) expect(res.body.errors?.map((e) => e.extensions?.code)).toEqual(['CONFLICT'])
    expect(posts()).toBe(1)
  })

  it('refuses the same key with other models or another dataset, with no POST', async () => {
    const copy = copyOf(await enrich('reused'))
    const otherModels = await enrich('reused', [detector])
    const otherDataset = await enrich('reused', [captioner], SEED.datasets.readySecond)
    const message = 'Argument idempotencyKey "reused" was already used for another enrichment request (another dataset or other models); use a new key for a new request. Nothing was sent to Visual Layer.'
    for (const res of [otherModels, otherDataset]) {
      expect(res.body).toEqual({ data: null, errors: [{ message, locations: [{ line: 2, column: 3 }], path: ['enrichDataset'], extensions: { code: 'BAD_USER_INPUT', requestId: 'req-idem' } }] })
    }
    expect(posts()).toBe(1)
    expect(copyOf(await enrich('reused'))).toBe(copy)
  })

  it('does not record a request the pre-flight or Visual Layer refused: the caller may fix it and use the key again', async () => {
    expect((await enrich('fix-me', [{ type: 'CAPTION_IMAGES', modelId: 'nope' }])).body.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT'])
    gw.emulator.injectFault({ method: 'POST', path: '/api/v1/dataset/*/enrich_dataset', status: 409 })
    expect((await enrich('fix-me')).body.errors?.map((e) => e.extensions?.code)).toEqual(['CONFLICT'])
    const fixed = await enrich('fix-me')
    expect(fixed.body).toEqual(success(copyOf(fixed)))
    expect(gw.emulator.calls({ path: '/api/v1/dataset/*/enrich_dataset' }).map((c) => c.status)).toEqual([409, 200])
  })

  it('records nothing when the outcome is unknown, and says that a retry with the key sends a new request', async () => {
    gw.emulator.injectFault({ method: 'POST', path: '/api/v1/dataset/*/enrich_dataset', drop: true })
    const lost = await enrich('lost')
    expect(lost.body.errors?.map((e) => e.extensions?.code)).toEqual(['UPSTREAM_UNAVAILABLE'])
    expect(lost.body.errors?.[0]?.message).toMatch(/whether an enriched copy is being built is unknown\. Check the source dataset's enrichment tasks before trying again: .* The idempotencyKey was not recorded, so a retry with it sends a new enrichment request\.$/)
    const retried = await enrich('lost')
    expect(retried.body).toEqual(success(copyOf(retried)))
    expect(gw.emulator.calls({ path: '/api/v1/dataset/*/enrich_dataset' }).map((c) => c.status)).toEqual([0, 200])
  })

  it('without a key, makes every call a new enrichment', async () => {
    const first = copyOf(await enrich(null))
    gw.emulator.advance(30_000)
    const second = copyOf(await enrich(null))
    expect(second).not.toBe(first)
    expect(posts()).toBe(2)
  })

  it('refuses an empty or overlong key before any upstream call', async () => {
    const empty = await enrich('')
    const long = await enrich('k'.repeat(256))
    expect(empty.body.errors?.[0]?.message).toBe(`Dataset ${ready} was not enriched, and nothing was sent to Visual Layer: the request has one problem. Argument idempotencyKey must be 1 to 255 characters long; got 0.`)
    expect(long.body.errors?.[0]?.message).toBe(`Dataset ${ready} was not enriched, and nothing was sent to Visual Layer: the request has one problem. Argument idempotencyKey must be 1 to 255 characters long; got 256.`)
    expect(gw.emulator.calls()).toEqual([])
  })
})

describe('idempotencyKey in passthrough mode', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway({ AUTH_MODE: 'passthrough' }) })
  afterAll(async () => { await gw.close() })
  beforeEach(() => { gw.emulator.reset() })

  const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })
  const enrich = async (token: string, key: string, datasetId: string = ready): Promise<Answer> =>
    await gw.gql(ENRICH, { datasetId, models: [captioner], key }, bearer(token))
  const posts = (): string[] => gw.emulator.calls({ method: 'POST' }).map((c) => `${c.apiKey} ${c.status}`)

  it('makes one POST for a double click with a token Visual Layer has not seen yet, although its scope changes in between', async () => {
    const fresh = visualLayerToken(DEMO_ACCOUNTS.primary, { exp: Math.floor(Date.now() / 1000) + 611 })
    // The first click's POST is held. Before it, Visual Layer accepted the token (the dataset GET),
    // so the second click arrives under the token's subject scope, the first started under its own.
    gw.emulator.injectFault({ method: 'POST', path: '/api/v1/dataset/*/enrich_dataset', hold: 'fresh-click' })
    const arrived = nextCall(gw.emulator, { method: 'POST', path: '/api/v1/dataset/*/enrich_dataset', phase: 'arrived' })
    const gets = gw.emulator.calls({ method: 'GET', path: `/api/v1/dataset/${ready}` }).length
    const first = enrich(fresh, 'fresh-click')
    await arrived
    // The second click's pre-flight read is answered while the first click's POST is still held.
    const second = enrich(fresh, 'fresh-click')
    const answeredGets = (): number => gw.emulator.calls({ method: 'GET', path: `/api/v1/dataset/${ready}` }).filter((call) => call.status !== 0).length
    await when('the second click\'s read answered', (listener) => gw.emulator.onCall(listener), () => answeredGets() >= gets + 2)
    expect(gw.emulator.release('fresh-click')).toBe(1)
    const [a, b] = await Promise.all([first, second])
    expect(a.body).toEqual(success(copyOf(a)))
    expect(b.body).toEqual(a.body)
    expect(posts()).toEqual([`${DEMO_ACCOUNTS.primary.apiKey} 200`])
    expect(gw.emulator.calls({ method: 'GET', path: `/api/v1/dataset/${ready}` }).length).toBeGreaterThanOrEqual(2)
  })

  it('answers a repeat from another token of the same account, once Visual Layer accepted it', async () => {
    const first = visualLayerToken(DEMO_ACCOUNTS.primary, { exp: Math.floor(Date.now() / 1000) + 612 })
    const second = visualLayerToken(DEMO_ACCOUNTS.primary, { exp: Math.floor(Date.now() / 1000) + 613 })
    const original = await enrich(first, 'same-account')
    const repeat = await enrich(second, 'same-account')
    expect(repeat.body).toEqual(original.body)
    expect(posts()).toEqual([`${DEMO_ACCOUNTS.primary.apiKey} 200`])
  })

  it('never answers another account from a record: its own pre-flight finds nothing to enrich', async () => {
    const acme = visualLayerToken(DEMO_ACCOUNTS.primary, { exp: Math.floor(Date.now() / 1000) + 614 })
    const globex = visualLayerToken(DEMO_ACCOUNTS.secondary, { exp: Math.floor(Date.now() / 1000) + 615 })
    await enrich(acme, 'shared-key')
    const other = await enrich(globex, 'shared-key')
    expect(other.body.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND'])
    expect(JSON.stringify(other.body)).not.toContain('enrichedDatasetId')
    expect(posts()).toEqual([`${DEMO_ACCOUNTS.primary.apiKey} 200`])
  })
})

describe('idempotencyKey in jwt mode (every caller shares the service account)', () => {
  const SECRET = 'mutations-test-secret-of-at-least-32-chars'
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET }) })
  afterAll(async () => { await gw.close() })

  const as = (sub: string): Record<string, string> => {
    const token = createSigner({ key: SECRET, algorithm: 'HS256' })({ sub, exp: Math.floor(Date.now() / 1000) + 600 })
    return { authorization: `Bearer ${token}` }
  }

  it('keeps each verified caller\'s keys apart: the same key from two callers is two requests', async () => {
    const alice = await gw.gql(ENRICH, { datasetId: ready, models: [captioner], key: 'k-1' }, as('alice'))
    const bobOther = await gw.gql(ENRICH, { datasetId: SEED.datasets.readySecond, models: [captioner], key: 'k-1' }, as('bob'))
    const aliceAgain = await gw.gql(ENRICH, { datasetId: ready, models: [captioner], key: 'k-1' }, as('alice'))
    expect(copyOf(bobOther)).not.toBe(copyOf(alice))
    expect(aliceAgain.body).toEqual(alice.body)
    expect(gw.emulator.calls({ method: 'POST' }).map((c) => c.path)).toEqual([
      `/api/v1/dataset/${ready}/enrich_dataset`,
      `/api/v1/dataset/${SEED.datasets.readySecond}/enrich_dataset`
    ])
  })
})

describe('IdempotencyStore', () => {
  const clock = { t: 0, now (): number { return this.t } }
  const store = (): IdempotencyStore<string> => new IdempotencyStore<string>({ windowMs: 1000, perf: clock })

  it('forgets a record when the window has passed since the write', async () => {
    const records = store()
    const owner = await records.claim('service', 'k', 'args')
    if (owner.kind !== 'owner') throw new Error('expected owner')
    clock.t += 5000 // a slow write: the window starts when it succeeds
    await owner.succeed('copy-1')
    clock.t += 999
    const replay = await records.claim('service', 'k', 'args')
    expect(replay.kind).toBe('replay')
    if (replay.kind === 'replay') expect(await replay.result).toBe('copy-1')
    clock.t += 2
    expect((await records.claim('service', 'k', 'args')).kind).toBe('owner')
  })

  it('keeps scopes apart, records under every scope given on success, and drops a failed attempt', async () => {
    const records = store()
    const owner = await records.claim('token:abc', 'k', 'args')
    if (owner.kind !== 'owner') throw new Error('expected owner')
    const joined = await records.claim('token:abc', 'k', 'args')
    expect((await records.claim('sub:other', 'k', 'args')).kind).toBe('owner')
    await owner.succeed('copy-2', ['sub:acme'])
    if (joined.kind !== 'replay') throw new Error('expected replay')
    expect(await joined.result).toBe('copy-2')
    expect((await records.claim('sub:acme', 'k', 'other args')).kind).toBe('mismatch')

    const failing = await records.claim('service', 'f', 'args')
    if (failing.kind !== 'owner') throw new Error('expected owner')
    const waiter = await records.claim('service', 'f', 'args')
    failing.fail(new Error('refused'))
    if (waiter.kind !== 'replay') throw new Error('expected replay')
    await expect(waiter.result).rejects.toThrow('refused')
    expect((await records.claim('service', 'f', 'args')).kind).toBe('owner')
    await sleep(0)
  })
})
