import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import type { TestGateway } from '../helpers/gateway.js'
import { connectionParams, freshToken, startModeGateway } from '../helpers/modes.js'
import { bearer, recordSse, sseClient } from '../helpers/sse.js'
import { record, wsClient } from '../helpers/ws.js'

/**
 * INTROSPECTION=false (the default with a real VL_BASE_URL): __schema and __type are refused for
 * every caller over every door, a request without a token is no longer let through to read the
 * schema, and validation messages suggest none of the schema's names. With it on, both work.
 */

const disabled = (field: string): string => `Introspection is turned off on this gateway: ${field} cannot be queried. Ask its operators for the schema (schema.graphql).`
const TYPO = '{ datasets { displayNam } }'
const TYPO_MESSAGE = 'Cannot query field "displayNam" on type "Dataset".'
const ENUM_TYPO = 'query ($s: TaskStatus) { tasks(filter: { status: $s }) { total } }'

describe('with INTROSPECTION=false', () => {
  let gw: TestGateway
  const token = (): Record<string, string> => bearer(freshToken('jwt'))
  beforeAll(async () => { gw = await startModeGateway('jwt', { INTROSPECTION: 'false' }) })
  afterAll(async () => { await gw.close() })

  it('refuses introspection over HTTP with a token, and answers a request without one with 401', async () => {
    const res = await gw.gql('{ __schema { queryType { name } } }', undefined, { ...token(), 'x-request-id': 'req-intro' })
    expect([res.status, res.body]).toEqual([400, {
      data: null,
      errors: [{ message: disabled('__schema'), locations: [{ line: 1, column: 3 }], extensions: { code: 'QUERY_REJECTED', requestId: 'req-intro' } }]
    }])
    const anonymous = await gw.gql('{ __schema { queryType { name } } }', undefined, { 'x-request-id': 'req-anon' })
    expect([anonymous.status, anonymous.body]).toEqual([401, {
      data: null,
      errors: [{ message: 'Missing Authorization header: send "Authorization: Bearer <token>".', extensions: { code: 'UNAUTHENTICATED', requestId: 'req-anon' } }]
    }])
    // Refused before its body is read: a request without a token has nothing it may ask.
    const large = await gw.gql(`{ __schema { queryType { name } } } # ${'x'.repeat(100_000)}`)
    expect(large.status).toBe(401)
    const typename = await gw.gql('{ __typename }', undefined, token())
    expect([typename.status, typename.body]).toEqual([200, { data: { __typename: 'Query' } }])
    expect(gw.emulator.calls()).toEqual([])
  })

  it('refuses introspection over WebSocket and SSE', async () => {
    const ws = wsClient(gw.url, connectionParams('jwt'))
    const sse = sseClient(gw.url, false, token())
    try {
      const overWs = await record(ws, '{ __type(name: "Dataset") { name } }').done.then(() => null, (errors: unknown) => errors)
      expect(overWs).toEqual([{
        message: disabled('__type'),
        locations: [{ line: 1, column: 3 }],
        extensions: { code: 'QUERY_REJECTED', requestId: expect.stringMatching(/:/) as unknown }
      }])
      const overSse = recordSse(sse, `subscription { datasetStatusChanged(datasetId: "${SEED.datasets.ready}") { id } } query { __schema { types { name } } }`)
      await overSse.done
      expect(overSse.events.map((event) => event.errors)).toEqual([[{
        message: disabled('__schema'),
        locations: [{ line: 1, column: 105 }],
        extensions: { code: 'QUERY_REJECTED', requestId: expect.any(String) as unknown }
      }]])
    } finally {
      sse.dispose()
      await ws.dispose()
    }
    expect(gw.emulator.calls()).toEqual([])
  })

  it('suggests no field, type or enum value in its messages, over HTTP and WebSocket', async () => {
    const field = await gw.gql(TYPO, undefined, token())
    expect(field.body.errors?.map((error) => error.message)).toEqual([TYPO_MESSAGE])
    const value = await gw.gql(ENUM_TYPO, { s: 'FAILD' }, token())
    expect(value.body.errors?.map((error) => error.message)).toEqual(['Variable "$s" got invalid value "FAILD"; Value "FAILD" does not exist in "TaskStatus" enum.'])
    const type = await gw.gql('query ($s: TaskStatu) { tasks(filter: { status: $s }) { total } }', undefined, token())
    expect(type.body.errors?.map((error) => error.message)).toEqual(['Unknown type "TaskStatu".'])
    const ws = wsClient(gw.url, connectionParams('jwt'))
    try {
      const overWs = await record(ws, TYPO).done.then(() => null, (errors: Array<{ message: string }>) => errors.map((error) => error.message))
      expect(overWs).toEqual([TYPO_MESSAGE])
    } finally {
      await ws.dispose()
    }
    expect(gw.emulator.calls()).toEqual([])
  })
})

describe('with INTROSPECTION=true', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startModeGateway('jwt', { INTROSPECTION: 'true' }) })
  afterAll(async () => { await gw.close() })

  it('lets a request without a token read the schema (GraphiQL loads its docs), and suggests names in its messages', async () => {
    const anonymous = await gw.gql('{ __schema { queryType { name } } }')
    expect([anonymous.status, anonymous.body]).toEqual([200, { data: { __schema: { queryType: { name: 'Query' } } } }])
    const field = await gw.gql(TYPO, undefined, bearer(freshToken('jwt')))
    expect(field.body.errors?.map((error) => error.message)).toEqual([`${TYPO_MESSAGE} Did you mean "displayName"?`])
    expect(gw.emulator.calls()).toEqual([])
  })
})
