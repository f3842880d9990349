import { GraphQLError } from 'graphql'
import { describe, expect, it } from 'vitest'
import { codeOfRefusal, codeOfUpstreamStatus, ERROR_CODES, ERRORS, problemType, refusalStatus } from '../src/errors.js'
import { formatError } from '../src/graphql/error-formatter.js'
import { problemFromError, problemOf } from '../src/transports/rest/problem.js'
import { upstreamStatusError } from '../src/upstream/errors.js'

/*
 * The one error table (src/errors.ts): each code's HTTP status, problem type and title, and the
 * codes of statuses answered beneath the gateway's own code, as every door reads them.
 */

const silent = { warn: () => {}, error: () => {} }
const request = { id: 'req-1', log: silent } as unknown as Parameters<typeof problemFromError>[1]
const refusal = (status: number, message = 'refused'): Error => Object.assign(new Error(message), { statusCode: status })

describe('the error table', () => {
  it('gives every code its status and title, and a problem type made of its name', () => {
    expect(ERROR_CODES.map((code) => [code, ERRORS[code].status, ERRORS[code].title, problemType(code)])).toEqual([
      ['UNAUTHENTICATED', 401, 'Not authenticated', 'urn:vl-gateway:problem:unauthenticated'],
      ['FORBIDDEN', 403, 'Forbidden', 'urn:vl-gateway:problem:forbidden'],
      ['NOT_FOUND', 404, 'Not found', 'urn:vl-gateway:problem:not-found'],
      ['BAD_USER_INPUT', 400, 'Bad request', 'urn:vl-gateway:problem:bad-user-input'],
      ['CONFLICT', 409, 'Conflict', 'urn:vl-gateway:problem:conflict'],
      ['RATE_LIMITED', 429, 'Too many requests', 'urn:vl-gateway:problem:rate-limited'],
      ['QUERY_REJECTED', 400, 'Request rejected', 'urn:vl-gateway:problem:query-rejected'],
      ['UPSTREAM_TIMEOUT', 504, 'Visual Layer did not answer in time', 'urn:vl-gateway:problem:upstream-timeout'],
      ['UPSTREAM_UNAVAILABLE', 503, 'Visual Layer is unavailable', 'urn:vl-gateway:problem:upstream-unavailable'],
      ['UPSTREAM_ERROR', 502, 'Visual Layer failed', 'urn:vl-gateway:problem:upstream-error'],
      ['UPSTREAM_CONTRACT', 502, 'Visual Layer broke its contract', 'urn:vl-gateway:problem:upstream-contract'],
      ['NOT_IMPLEMENTED', 501, 'Not available in this mode', 'urn:vl-gateway:problem:not-implemented'],
      ['INTERNAL_SERVER_ERROR', 500, 'Internal error', 'urn:vl-gateway:problem:internal-server-error']
    ])
  })

  it('maps Visual Layer\'s statuses to codes', () => {
    const statuses = [400, 401, 403, 404, 405, 409, 410, 422, 429, 500, 502, 503, 504]
    expect(statuses.map((status) => [status, codeOfUpstreamStatus(status)])).toEqual([
      [400, 'BAD_USER_INPUT'], [401, 'UNAUTHENTICATED'], [403, 'FORBIDDEN'], [404, 'NOT_FOUND'], [405, 'UPSTREAM_ERROR'],
      [409, 'CONFLICT'], [410, 'UPSTREAM_ERROR'], [422, 'BAD_USER_INPUT'], [429, 'RATE_LIMITED'], [500, 'UPSTREAM_ERROR'],
      [502, 'UPSTREAM_UNAVAILABLE'], [503, 'UPSTREAM_UNAVAILABLE'], [504, 'UPSTREAM_UNAVAILABLE']
    ])
  })

  it('gives the upstream client\'s errors those codes, but a refused service account is UPSTREAM_ERROR', () => {
    const call = { method: 'GET', what: 'dataset d1', credential: 'bearer' } as const
    expect([401, 404, 422, 503, 418].map((status) => upstreamStatusError(status, null, call).code))
      .toEqual(['UNAUTHENTICATED', 'NOT_FOUND', 'BAD_USER_INPUT', 'UPSTREAM_UNAVAILABLE', 'UPSTREAM_ERROR'])
    expect(upstreamStatusError(401, null, { ...call, credential: 'service' }).code).toBe('UPSTREAM_ERROR')
  })

  it('maps a refusal\'s status to a code, any status that names none to what the door calls a request it cannot read', () => {
    const statuses = [400, 401, 403, 404, 405, 409, 413, 415, 429]
    expect(statuses.map((status) => [status, codeOfRefusal(status, 'QUERY_REJECTED'), codeOfRefusal(status, 'BAD_USER_INPUT')])).toEqual([
      [400, 'QUERY_REJECTED', 'BAD_USER_INPUT'],
      [401, 'UNAUTHENTICATED', 'UNAUTHENTICATED'],
      [403, 'FORBIDDEN', 'FORBIDDEN'],
      [404, 'NOT_FOUND', 'NOT_FOUND'],
      [405, 'QUERY_REJECTED', 'BAD_USER_INPUT'],
      [409, 'CONFLICT', 'CONFLICT'],
      [413, 'QUERY_REJECTED', 'BAD_USER_INPUT'],
      [415, 'QUERY_REJECTED', 'BAD_USER_INPUT'],
      [429, 'RATE_LIMITED', 'RATE_LIMITED']
    ])
    expect([refusalStatus(refusal(413)), refusalStatus(refusal(500)), refusalStatus(new Error('plain')), refusalStatus(null)]).toEqual([413, null, null, null])
  })
})

describe('the doors read it', () => {
  it('REST: a code\'s problem, and a refusal beneath the door keeps its status with the code of the table', () => {
    expect(problemOf('CONFLICT', 'Task t1 is running.', 'req-1')).toEqual({
      type: 'urn:vl-gateway:problem:conflict', title: 'Conflict', status: 409, detail: 'Task t1 is running.', code: 'CONFLICT', requestId: 'req-1'
    })
    expect([404, 409, 413, 429].map((status) => problemFromError(refusal(status), request))).toEqual([
      { type: 'urn:vl-gateway:problem:not-found', title: 'Not found', status: 404, detail: 'refused', code: 'NOT_FOUND', requestId: 'req-1' },
      { type: 'urn:vl-gateway:problem:conflict', title: 'Conflict', status: 409, detail: 'refused', code: 'CONFLICT', requestId: 'req-1' },
      { type: 'urn:vl-gateway:problem:bad-user-input', title: 'Bad request', status: 413, detail: 'refused', code: 'BAD_USER_INPUT', requestId: 'req-1' },
      { type: 'urn:vl-gateway:problem:rate-limited', title: 'Too many requests', status: 429, detail: 'refused', code: 'RATE_LIMITED', requestId: 'req-1' }
    ])
  })

  it('GraphQL: a refusal beneath the door gets the code of the table, any other status QUERY_REJECTED, in the door\'s words', () => {
    const formatted = [404, 413, 429].map((status) => formatError(
      new GraphQLError('refused', { originalError: refusal(status) }), 'req-1', silent, { refusalMessage: (error) => `${error.message}: say it better` }
    ))
    expect(formatted).toEqual([
      { message: 'refused: say it better', extensions: { code: 'NOT_FOUND', requestId: 'req-1' } },
      { message: 'refused: say it better', extensions: { code: 'QUERY_REJECTED', requestId: 'req-1' } },
      { message: 'refused: say it better', extensions: { code: 'RATE_LIMITED', requestId: 'req-1' } }
    ])
    expect(formatError(new GraphQLError('refused', { originalError: refusal(413) }), 'req-1', silent))
      .toEqual({ message: 'refused', extensions: { code: 'QUERY_REJECTED', requestId: 'req-1' } })
  })
})
