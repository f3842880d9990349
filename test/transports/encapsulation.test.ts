import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { hasRemoteUpstream, loadConfig } from '../../src/config.js'
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js'
import { TEST_START } from '../helpers/gateway.js'
import { tryAgainIn } from '../helpers/rate-limits.js'

/**
 * Each door owns its hooks, serializer and error handler (issue 11): a route beside /graphql gets
 * none of /graphql's, only what every answer gets (its request id). Before, /graphql's serializer
 * replaced the whole app's, and its hooks skipped other routes by comparing URL strings.
 */

let emulator: RunningEmulator
let app: FastifyInstance
beforeAll(async () => {
  emulator = await startEmulator({ clock: TEST_START })
  const config = loadConfig({ VL_BASE_URL: emulator.url, AUTH_MODE: 'passthrough', RATE_LIMIT_PER_MINUTE: '1', LOG_LEVEL: 'silent', INTROSPECTION: 'true', LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0' })
  if (!hasRemoteUpstream(config)) throw new Error('unreachable: VL_BASE_URL is set')
  app = await buildApp(config)
  // A route of another door, as a later REST or SSE plugin would add, with a response schema.
  app.get('/probe', { schema: { response: { 200: { type: 'object', properties: { shown: { type: 'string' } } } } } }, async () => ({ shown: 'yes', hidden: 'not in the schema' }))
  app.get('/probe-error', async () => { throw Object.assign(new Error('probe failed'), { statusCode: 418 }) })
})
afterAll(async () => {
  await app.close()
  await emulator.close()
})

describe('a route beside /graphql', () => {
  it("is serialized by its own response schema, not by /graphql's JSON.stringify", async () => {
    const res = await app.inject({ method: 'GET', url: '/probe' })
    expect([res.statusCode, res.json()]).toEqual([200, { shown: 'yes' }])
  })

  it('gets no authentication and no rate limit from /graphql, only the request id every answer carries', async () => {
    const answers = []
    for (let i = 0; i < 3; i++) {
      const res = await app.inject({ method: 'GET', url: '/probe', headers: { 'x-request-id': `req-probe-${i}` } })
      answers.push([res.statusCode, res.headers['x-request-id'], res.headers['x-ratelimit-limit'], res.headers['www-authenticate']])
    }
    expect(answers).toEqual([[200, 'req-probe-0', undefined, undefined], [200, 'req-probe-1', undefined, undefined], [200, 'req-probe-2', undefined, undefined]])
    // Meanwhile /graphql refuses the same tokenless caller (before the rate limit counts it), lets
    // it introspect, and limits it to one request a minute.
    const query = { query: '{ datasets { nodes { id } } }' }
    const first = await app.inject({ method: 'POST', url: '/graphql', payload: query, headers: { 'x-request-id': 'req-gql-1' } })
    expect([first.statusCode, first.json()]).toEqual([401, { data: null, errors: [{ message: 'Missing Authorization header: send "Authorization: Bearer <token>".', extensions: { code: 'UNAUTHENTICATED', requestId: 'req-gql-1' } }] }])
    const second = await app.inject({ method: 'POST', url: '/graphql', payload: { query: '{ __typename }' }, headers: { 'x-request-id': 'req-gql-2' } })
    expect([second.statusCode, second.json(), second.headers['x-ratelimit-remaining']]).toEqual([200, { data: { __typename: 'Query' } }, '0'])
    const third = await app.inject({ method: 'POST', url: '/graphql', payload: { query: '{ __typename }' }, headers: { 'x-request-id': 'req-gql-3' } })
    expect([third.statusCode, third.json()]).toEqual([429, { data: null, errors: [{ message: `Too many requests: at most 1 a minute for each caller. Try again in ${tryAgainIn(third.headers['retry-after'] as string)}.`, extensions: { code: 'RATE_LIMITED', requestId: 'req-gql-3' } }] }])
    expect(emulator.calls()).toEqual([])
  })

  it("answers its errors with the gateway's root error handler (src/transports/unrouted.ts), not with /graphql's", async () => {
    const res = await app.inject({ method: 'GET', url: '/probe-error', headers: { 'x-request-id': 'req-probe-error' } })
    // The gateway's shape, with the error's own status and words (no formatter of /graphql's rewrote them).
    expect([res.statusCode, res.json()]).toEqual([418, { data: null, errors: [{ message: 'probe failed', extensions: { code: 'BAD_USER_INPUT', requestId: 'req-probe-error' } }] }])
  })
})
