import { expect } from 'vitest'
import { statusAndBody, tally, TYPENAME } from '../harness/answers.js'
import { hostileCase } from '../harness/case.js'
import { inWaves } from '../harness/http.js'
import { defineSuite } from '../harness/suite.js'
import { bearer } from '../harness/tokens.js'

/*
 * GraphQL over HTTP with the response cache on (RESPONSE_CACHE_TTL_MS): every answer without errors is
 * kept, keyed by its variables among the rest, so unique variables are one more way to make the gateway
 * keep something. RESPONSE_CACHE_MAX_BYTES holds it: the answers kept stay within 1 MiB here, where
 * 1,000 answers keyed by 32 KB of variables each would keep 32 MB.
 */

const json = { 'content-type': 'application/json' }

export const suite = defineSuite({
  name: 'response-cache',
  env: {
    // On, for longer than the case lasts: nothing leaves by its TTL, only by the bound in bytes.
    RESPONSE_CACHE_TTL_MS: '60000',
    RESPONSE_CACHE_MAX_BYTES: '1048576'
  },
  cases: [
    hostileCase({
      door: 'graphql-http',
      attack: 'many-unique-variables',
      name: '1,000 POSTs of { __typename } with the response cache on, each with 32 KB of variables never sent before',
      memoryGrowthMb: 12,
      run: async ({ url, http, signal, account }) => {
        const pad = 'v'.repeat(32 * 1024)
        const answers = await inWaves(1_000, 8, signal, async (i) => await http.send(`${url}/graphql`, {
          method: 'POST',
          headers: { ...json, ...bearer(account) },
          body: JSON.stringify({ query: '{ __typename }', variables: { pad: `${i} ${pad}` } })
        }))
        return answers.map(statusAndBody)
      },
      answers: (answers) => { expect(tally(answers)).toEqual({ [`200 ${TYPENAME}`]: 1_000 }) },
      upstream: 0
    })
  ]
})
