import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import type { Answer, Send } from '../../src/upstream/exchange.js'
import { retry } from '../../src/upstream/layers/retry.js'
import { serviceTokenRenewal } from '../../src/upstream/layers/service-token.js'
import { RetryBudget } from '../../src/upstream/retry-policy.js'
import { ServiceTokens } from '../../src/upstream/token.js'

describe('renewal of a refused service token', () => {
  it('happens once per call, even when a retry meets a second 401', async () => {
    const tokens = new ServiceTokens({ apiKey: 'key-1', apiSecret: 'secret-1' })
    const statuses = [401, 503, 401, 200]
    const sent: number[] = []
    // Visual Layer as a script of statuses; Retry-After 0 keeps the retry immediate.
    const send: Send = async () => {
      const status = statuses[sent.length] as number
      sent.push(status)
      return { status, body: null, token: tokens.token(), retryAfter: '0' } satisfies Answer
    }
    const call = retry({ retries: 2, timeoutMs: 5_000, budget: new RetryBudget(), log: pino({ level: 'silent' }) })(serviceTokenRenewal(tokens)(send))
    const answer = await call({
      request: { method: 'GET', path: '/api/v1/datasets', endpoint: '/api/v1/datasets', what: 'the dataset list', resource: { kind: 'dataset-list' } },
      call: { credential: { kind: 'service' } },
      failed: { method: 'GET', what: 'the dataset list', credential: 'service' }
    })
    expect(answer.status).toBe(401)
    expect(sent).toEqual([401, 503, 401])
  })
})
