import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { freshToken } from '../helpers/modes.js'
import { record, wsClient } from '../helpers/ws.js'
import { tryAgainIn } from '../helpers/rate-limits.js'

/*
 * The HTTP rate limit counts per caller and per operation type: mutations against their own,
 * stricter allowance (RATE_LIMIT_MUTATIONS_PER_MINUTE), everything else against RATE_LIMIT_PER_MINUTE.
 * The caller is the address when nothing better is known, read through TRUST_PROXY.
 */

async function post (gw: TestGateway, query: string, headers: Record<string, string> = {}): Promise<{ status: number, retryAfter: string | null, body: unknown }> {
  const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) })
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() }
}

// A mutation refused before any upstream call still counts: the caller sent it.
const mutation = 'mutation { abortTask(taskId: "not-an-id") { id } }'
const query = '{ __typename }'

describe('per operation type, in jwt mode (caller: the token\'s sub)', () => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startTestGateway({ AUTH_MODE: 'jwt', JWT_SECRET: 'an-hs256-secret-of-at-least-32-characters!', RATE_LIMIT_PER_MINUTE: '4', RATE_LIMIT_MUTATIONS_PER_MINUTE: '2' })
  })
  afterAll(async () => { await gw.close() })
  const as = (subject: string): Record<string, string> => ({ authorization: `Bearer ${freshToken('jwt', { subject }) ?? ''}` })

  it('refuses the third mutation of a minute with 429, its own message and Retry-After; queries keep their own allowance', async () => {
    const alice = as('alice')
    for (let i = 0; i < 2; i++) expect((await post(gw, mutation, alice)).status).toBe(200)
    const third = await post(gw, mutation, { ...alice, 'x-request-id': 'req-third' })
    expect([third.status, third.body]).toEqual([429, {
      data: null,
      errors: [{ message: `Too many mutations: at most 2 a minute for each caller. Try again in ${tryAgainIn(third.retryAfter)}.`, extensions: { code: 'RATE_LIMITED', requestId: 'req-third' } }]
    }])
    expect(Number(third.retryAfter)).toBeGreaterThanOrEqual(55)
    expect(Number(third.retryAfter)).toBeLessThanOrEqual(60)
    expect(gw.emulator.calls()).toEqual([])

    // Four queries a minute, whatever the mutations did; the fifth is refused.
    for (let i = 0; i < 4; i++) expect((await post(gw, query, alice)).body).toEqual({ data: { __typename: 'Query' } })
    const fifth = await post(gw, query, { ...alice, 'x-request-id': 'req-fifth' })
    expect([fifth.status, fifth.body]).toEqual([429, {
      data: null,
      errors: [{ message: `Too many requests: at most 4 a minute for each caller. Try again in ${tryAgainIn(fifth.retryAfter)}.`, extensions: { code: 'RATE_LIMITED', requestId: 'req-fifth' } }]
    }])
    // Another caller has allowances of its own.
    expect((await post(gw, mutation, as('bob'))).status).toBe(200)
    expect((await post(gw, query, as('bob'))).status).toBe(200)
  })

  it('tells each answer the caller\'s window in X-RateLimit-* headers, mutations their own, and Retry-After once over', async () => {
    const dave = as('dave')
    const window = async (body: string): Promise<[number, string | null, string | null, number, string | null]> => {
      const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...dave }, body: JSON.stringify({ query: body }) })
      const reset = Number(res.headers.get('x-ratelimit-reset'))
      expect(reset).toBeGreaterThanOrEqual(1)
      expect(reset).toBeLessThanOrEqual(60)
      return [res.status, res.headers.get('x-ratelimit-limit'), res.headers.get('x-ratelimit-remaining'), reset, res.headers.get('retry-after')]
    }
    const answers = []
    for (let i = 0; i < 5; i++) answers.push(await window(query))
    expect(answers.map(([status, limit, remaining, , retryAfter]) => [status, limit, remaining, retryAfter])).toEqual([
      [200, '4', '3', null], [200, '4', '2', null], [200, '4', '1', null], [200, '4', '0', null], [429, '4', '0', String(answers[4]?.[3])]
    ])
    const [status, limit, remaining, , retryAfter] = await window(mutation)
    expect([status, limit, remaining, retryAfter]).toEqual([200, '2', '1', null])
    // A request refused before it is counted (its document, here) says nothing of the window.
    const refused = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...dave }, body: JSON.stringify({ query: '{ nope }' }) })
    expect([refused.status, refused.headers.get('x-ratelimit-limit')]).toEqual([400, null])
  })

  it('holds over WebSocket too: the third mutation of a minute on a socket is RATE_LIMITED, with no upstream call', async () => {
    const client = wsClient(gw.url, { Authorization: as('carol').authorization })
    try {
      const results: unknown[] = []
      for (let i = 0; i < 3; i++) {
        results.push(await record(client, mutation).done.then(() => 'ran', (errors: Array<{ message: string, extensions?: { code?: unknown } }>) => errors))
      }
      expect(results.slice(0, 2)).toEqual(['ran', 'ran'])
      expect(results[2]).toEqual([{
        message: expect.stringMatching(/^Too many mutations: at most 2 a minute for each caller\. Try again in (59|60) s\.$/) as unknown,
        extensions: { code: 'RATE_LIMITED', requestId: expect.any(String) as unknown }
      }])
      expect(gw.emulator.calls()).toEqual([])
    } finally {
      await client.dispose()
    }
  })
})

describe('the caller\'s address, through TRUST_PROXY', () => {
  const dataset = `{ dataset(id: "${SEED.datasets.ready}") { id } }`
  let trusted: TestGateway
  let untrusted: TestGateway
  beforeAll(async () => {
    trusted = await startTestGateway({ TRUST_PROXY: '127.0.0.1', RATE_LIMIT_PER_MINUTE: '2' })
    untrusted = await startTestGateway({ RATE_LIMIT_PER_MINUTE: '2' })
  })
  afterAll(async () => { await Promise.all([trusted.close(), untrusted.close()]) })

  it('counts each client behind a trusted proxy apart', async () => {
    const from = (address: string): Record<string, string> => ({ 'x-forwarded-for': address })
    for (let i = 0; i < 2; i++) expect((await post(trusted, dataset, from('10.0.0.1'))).status).toBe(200)
    expect((await post(trusted, dataset, from('10.0.0.1'))).status).toBe(429)
    expect((await post(trusted, dataset, from('10.0.0.2'))).status).toBe(200)
  })

  it('ignores X-Forwarded-For without TRUST_PROXY: a client cannot claim a fresh address', async () => {
    expect((await post(untrusted, dataset, { 'x-forwarded-for': '10.0.0.1' })).status).toBe(200)
    expect((await post(untrusted, dataset, { 'x-forwarded-for': '10.0.0.2' })).status).toBe(200)
    expect((await post(untrusted, dataset, { 'x-forwarded-for': '10.0.0.3' })).status).toBe(429)
  })
})
