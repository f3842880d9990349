import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import type { TestGateway } from '../helpers/gateway.js'
import { ManualTime } from '../helpers/manual-time.js'
import { AUTH_MODES, freshToken, startModeGateway } from '../helpers/modes.js'

/**
 * /v1/webhooks in every auth mode: registration, listing, reading, changing and deleting, owned by the
 * caller (another caller gets 404), the cap per caller, bad input named and changing nothing, and
 * passthrough's 501 with its reason. Pollers and deliveries wait on ManualTime the test never moves.
 */

const DATASET = SEED.datasets.ready
const OTHER_DATASET = SEED.datasets.readySecond
const URL_ = 'http://127.0.0.1:9/hooks'
const ID = /^wh_[0-9a-f]{32}$/

interface Answer { status: number, body: any, headers: Headers }

describe.each(AUTH_MODES)('/v1/webhooks (AUTH_MODE=%s)', (mode) => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startModeGateway(mode, { WEBHOOKS_ALLOW_PRIVATE_TARGETS: '127.0.0.1', WEBHOOKS_MAX_PER_CALLER: '2' }, {
      liveTime: new ManualTime(),
      webhooks: { time: new ManualTime() }
    })
  })
  afterAll(async () => { await gw.close() })

  const call = async (method: string, path: string, body?: unknown, subject = 'alice'): Promise<Answer> => {
    const token = freshToken(mode, { subject })
    const res = await fetch(`${gw.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', 'x-request-id': 'wh-test', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    const text = await res.text()
    return { status: res.status, headers: res.headers, body: text === '' ? null : JSON.parse(text) }
  }
  const problem = (code: string, status: number, title: string, detail: string): unknown => ({
    type: `urn:vl-gateway:problem:${code.toLowerCase().replaceAll('_', '-')}`, title, status, detail, code, requestId: 'wh-test'
  })

  if (mode === 'passthrough') {
    it('answers 501 on every route, saying why', async () => {
      const answers = await Promise.all([
        call('POST', '/v1/webhooks', { url: URL_, events: ['dataset.ready'], datasetIds: [DATASET] }),
        call('GET', '/v1/webhooks'),
        call('GET', `/v1/webhooks/wh_${'0'.repeat(32)}`),
        call('DELETE', `/v1/webhooks/wh_${'0'.repeat(32)}`)
      ])
      const detail = 'Webhooks need the gateway\'s own Visual Layer service account, which polls for events after the registering request has ended; ' +
        'in AUTH_MODE=passthrough the gateway holds no credential that outlives a caller\'s request (it keeps no partner token or secret). ' +
        'Run the gateway in jwt mode (docs/webhooks.md), or follow GET /v1/datasets/{id}/events.'
      for (const answer of answers) {
        expect(answer.status).toBe(501)
        expect(answer.body).toEqual(problem('NOT_IMPLEMENTED', 501, 'Not available in this mode', detail))
      }
      expect(gw.app.webhooks).toBe(null)
    })
    return
  }

  it('registers a webhook, shows its secret once, and says where it is kept', async () => {
    const created = await call('POST', '/v1/webhooks', { url: URL_, events: ['dataset.ready', 'task.failed'], datasetIds: [DATASET.toUpperCase()], description: 'mine' })
    expect(created.status).toBe(201)
    const { id, secret, createdAt } = created.body
    expect(id).toMatch(ID)
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/)
    expect(created.headers.get('location')).toBe(`/v1/webhooks/${id}`)
    const webhook = {
      id, url: URL_, events: ['dataset.ready', 'task.failed'], datasetIds: [DATASET], enrichedCopyIds: [], description: 'mine', enabled: true, disabledReason: null, createdAt
    }
    expect(created.body).toEqual({
      ...webhook,
      secret,
      storage: 'memory',
      storageNote: 'Kept by this gateway process alone (no REDIS_URL): registrations, pending deliveries and the delivery log are lost when it restarts.'
    })
    expect((await call('GET', `/v1/webhooks/${id}`)).body).toEqual(webhook)
    expect((await call('GET', '/v1/webhooks')).body).toEqual({ nodes: [webhook] })

    const patched = await call('PATCH', `/v1/webhooks/${id}`, { events: ['dataset.error'], datasetIds: [OTHER_DATASET], enabled: false })
    expect(patched).toMatchObject({ status: 200, body: { ...webhook, events: ['dataset.error'], datasetIds: [OTHER_DATASET], enabled: false, disabledReason: 'disabled by its owner' } })
    expect((await call('PATCH', `/v1/webhooks/${id}`, { enabled: true })).body).toMatchObject({ enabled: true, disabledReason: null })

    expect((await call('DELETE', `/v1/webhooks/${id}`)).status).toBe(204)
    expect(await call('GET', `/v1/webhooks/${id}`)).toMatchObject({ status: 404, body: problem('NOT_FOUND', 404, 'Not found', `You have no webhook ${id}.`) })
    expect((await call('GET', '/v1/webhooks')).body).toEqual({ nodes: [] })
  })

  it('registers a webhook on every dataset of the account without datasetIds (or with null), following the account\'s lists', async () => {
    const webhooks = gw.app.webhooks
    if (webhooks === null) throw new Error('unreachable: webhooks run in this mode')
    expect(webhooks.followingAccount).toBe(false)
    const created = await call('POST', '/v1/webhooks', { url: URL_, events: ['dataset.ready'] })
    expect(created.status).toBe(201)
    const { id, createdAt } = created.body
    const webhook = { id, url: URL_, events: ['dataset.ready'], datasetIds: null, enrichedCopyIds: [], description: null, enabled: true, disabledReason: null, createdAt }
    expect((await call('GET', `/v1/webhooks/${id}`)).body).toEqual(webhook)
    expect([webhooks.following, webhooks.followingAccount]).toEqual([0, true])
    // Named datasets: those alone; null again: the account's.
    expect((await call('PATCH', `/v1/webhooks/${id}`, { datasetIds: [DATASET] })).body).toEqual({ ...webhook, datasetIds: [DATASET] })
    expect([webhooks.following, webhooks.followingAccount]).toEqual([1, false])
    expect((await call('PATCH', `/v1/webhooks/${id}`, { datasetIds: null })).body).toEqual(webhook)
    expect([webhooks.following, webhooks.followingAccount]).toEqual([0, true])
    // A disabled one follows nothing.
    expect((await call('PATCH', `/v1/webhooks/${id}`, { enabled: false })).body.enabled).toBe(false)
    expect(webhooks.followingAccount).toBe(false)
    const second = await call('POST', '/v1/webhooks', { url: URL_, events: ['task.failed'], datasetIds: null })
    expect([second.status, second.body.datasetIds, webhooks.followingAccount]).toEqual([201, null, true])
    for (const each of [id, second.body.id]) expect((await call('DELETE', `/v1/webhooks/${each}`)).status).toBe(204)
    expect([webhooks.following, webhooks.followingAccount]).toEqual([0, false])
  })

  it('keeps each caller\'s webhooks from the others (jwt: by subject; none: every caller is the same one)', async () => {
    const created = await call('POST', '/v1/webhooks', { url: URL_, events: ['dataset.ready'], datasetIds: [DATASET] }, 'alice')
    const { id } = created.body
    const other = mode === 'jwt' ? 'bob' : 'alice'
    const seen = await call('GET', `/v1/webhooks/${id}`, undefined, 'bob')
    const deleted = await call('DELETE', `/v1/webhooks/${id}`, undefined, 'bob')
    if (other === 'bob') {
      expect([seen.status, deleted.status]).toEqual([404, 404])
      expect(seen.body.detail).toBe(`You have no webhook ${id}.`)
      expect((await call('GET', '/v1/webhooks', undefined, 'bob')).body).toEqual({ nodes: [] })
      expect((await call('GET', `/v1/webhooks/${id}`, undefined, 'alice')).status).toBe(200)
      expect((await call('DELETE', `/v1/webhooks/${id}`, undefined, 'alice')).status).toBe(204)
    } else {
      expect([seen.status, deleted.status]).toEqual([200, 204])
    }
  })

  it('caps the webhooks of one caller (WEBHOOKS_MAX_PER_CALLER)', async () => {
    const body = { url: URL_, events: ['dataset.ready'], datasetIds: [DATASET] }
    const ids: string[] = []
    for (let i = 0; i < 2; i++) ids.push((await call('POST', '/v1/webhooks', body)).body.id)
    const third = await call('POST', '/v1/webhooks', body)
    expect(third.status).toBe(429)
    expect(third.body).toEqual(problem('RATE_LIMITED', 429, 'Too many requests', 'You have 2 webhooks already (WEBHOOKS_MAX_PER_CALLER): delete one before registering another.'))
    if (mode === 'jwt') expect((await call('POST', '/v1/webhooks', body, 'carol')).status).toBe(201)
    for (const id of ids) await call('DELETE', `/v1/webhooks/${id}`)
  })

  it.each([
    [{ url: 'ftp://example.com/x', events: ['dataset.ready'], datasetIds: [DATASET] }, 'Body field url is refused: must be an http or https URL.'],
    [{ url: 'http://127.0.0.2/x', events: ['dataset.ready'], datasetIds: [DATASET] },
      'Body field url is refused: its host 127.0.0.2 resolves to 127.0.0.2, a loopback, private, link-local or reserved address (WEBHOOKS_ALLOW_PRIVATE_TARGETS does not list it).'],
    [{ url: 'http://169.254.169.254/latest', events: ['dataset.ready'], datasetIds: [DATASET] },
      'Body field url is refused: its host 169.254.169.254 resolves to 169.254.169.254, a loopback, private, link-local or reserved address (WEBHOOKS_ALLOW_PRIVATE_TARGETS does not list it).'],
    [{ url: 'http://[::1]:80/x', events: ['dataset.ready'], datasetIds: [DATASET] },
      'Body field url is refused: its host ::1 resolves to ::1, a loopback, private, link-local or reserved address (WEBHOOKS_ALLOW_PRIVATE_TARGETS does not list it).'],
    [{ url: URL_, events: ['dataset.deleted'], datasetIds: [DATASET] },
      'Body field events[0] must name event types among dataset.status_changed, dataset.ready, dataset.error, enrichment.completed, task.updated, task.failed, task.completed.'],
    [{ url: URL_, events: [], datasetIds: [DATASET] },
      'Body field events is empty: name at least one of dataset.status_changed, dataset.ready, dataset.error, enrichment.completed, task.updated, task.failed, task.completed.'],
    [{ url: URL_, events: ['dataset.ready'], datasetIds: [] },
      'Body field datasetIds is empty: name the datasets whose events you want (their enriched copies follow), or leave datasetIds out (or null) for every dataset of the account.'],
    [{ url: URL_, events: ['dataset.ready'], datasetIds: ['nope'] },
      'Body field datasetIds[0] must hold Visual Layer dataset ids (UUIDs such as ad48d250-1232-11f1-bfca-fa39f6ed1f22).'],
    [{ url: URL_, events: ['dataset.ready'], datasetIds: ['00000000-0000-4000-8000-000000000000'] },
      'Body field datasetIds names a dataset that do not exist or you may not see: 00000000-0000-4000-8000-000000000000.'],
    [{ url: URL_, events: ['dataset.ready'], datasetIds: [DATASET], secret: 'mine' }, 'Unknown body field "secret".']
  ])('refuses %j with 400 naming the problem, registering nothing', async (body, detail) => {
    const answer = await call('POST', '/v1/webhooks', body)
    expect(answer).toMatchObject({ status: 400, body: problem('BAD_USER_INPUT', 400, 'Bad request', detail) })
    expect((await call('GET', '/v1/webhooks')).body).toEqual({ nodes: [] })
  })

  it('rotates the secret, keeping the old one for the grace period asked', async () => {
    const { id } = (await call('POST', '/v1/webhooks', { url: URL_, events: ['dataset.ready'], datasetIds: [DATASET] })).body
    const rotated = await call('POST', `/v1/webhooks/${id}/rotate-secret?gracePeriodSeconds=60`)
    expect(rotated.status).toBe(200)
    expect(Object.keys(rotated.body)).toEqual(['secret', 'previousSecretValidUntil'])
    expect(rotated.body.secret).toMatch(/^whsec_/)
    // The webhook clock is ManualTime at 0: the old secret signs until 60 s on it.
    expect(rotated.body.previousSecretValidUntil).toBe(new Date(60_000).toISOString())
    const bad = await call('POST', `/v1/webhooks/${id}/rotate-secret?gracePeriodSeconds=604801`)
    expect(bad.body.detail).toBe('Query parameter gracePeriodSeconds must be an integer from 0 to 604800.')
    await call('DELETE', `/v1/webhooks/${id}`)
  })
})
