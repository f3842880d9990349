/*
 * GraphiQL's fetcher (src/transports/graphiql/browser/fetcher.ts) against a real gateway over HTTP and
 * WebSocket. For 100 ms after a tab change or an edit, GraphiQL still holds the operation name of the text it
 * showed before; a click on Run in that time sends it with the new text. The fetcher reads such a name as the
 * document's single operation; a document of several operations keeps the name, and the gateway refuses it.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { FetcherParams } from '@graphiql/toolkit'
import { gatewayFetcher } from '../../src/transports/graphiql/browser/fetcher.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'

let gateway: TestGateway

beforeAll(async () => {
  gateway = await startTestGateway()
  // The toolkit POSTs with the page's window.fetch.
  vi.stubGlobal('window', { fetch: globalThis.fetch })
})
afterAll(async () => {
  vi.unstubAllGlobals()
  await gateway.close()
})

/** The first result the fetcher gives for `params` (a promise, or the first value of a stream). */
async function first (params: FetcherParams): Promise<unknown> {
  const answer = await gatewayFetcher(new URL(`${gateway.url}/graphql`))(params, { headers: {} })
  if (typeof answer === 'object' && answer !== null && Symbol.asyncIterator in answer) {
    const iterator = (answer as AsyncIterableIterator<unknown>)[Symbol.asyncIterator]()
    const next = await iterator.next()
    await iterator.return?.()
    return next.value
  }
  return answer
}

const DATASETS = '{ datasets { displayName status } }'

describe('GraphiQL fetcher', () => {
  it('sends the single operation of the document when GraphiQL holds the name of the tab it showed before', async () => {
    const query = `query DatasetPage ${DATASETS}`
    const expected = (await gateway.gql(query)).body
    expect((expected as { data: { datasets: unknown[] } }).data.datasets).toHaveLength(10)
    expect(await first({ query, operationName: 'DatasetStatus' })).toEqual(expected)
    // A live query is sent over the socket by the same rule: its first result is the page.
    expect(await first({ query: `query DatasetPage @live ${DATASETS}`, operationName: 'DatasetStatus' })).toEqual(expected)
  })

  it('keeps a name the document does not have when it holds several operations: the gateway says so', async () => {
    const query = `query A ${DATASETS} query B { __typename }`
    expect(await first({ query, operationName: 'B' })).toEqual({ data: { __typename: 'Query' } })
    expect(await first({ query, operationName: 'C' })).toEqual({
      data: null,
      errors: [{ message: 'The document has no operation named "C"; it holds A, B.', extensions: { code: 'QUERY_REJECTED', requestId: expect.any(String) as unknown } }]
    })
  })
})
