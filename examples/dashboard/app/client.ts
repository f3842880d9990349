import { persistedExchange } from '@urql/exchange-persisted'
import { createClient as createWsClient } from 'graphql-ws'
import { Client, fetchExchange, subscriptionExchange, type CombinedError } from 'urql'

/*
 * The dashboard's data layer: urql over HTTP for queries and mutations, graphql-ws for
 * subscriptions, both to this page's own origin (the dev server, or whatever serves the bundle,
 * forwards /graphql to the gateway). persistedExchange sends each document's hash, computed by
 * the client preset at build time (`__meta__.hash`), as `extensions.persistedQuery`, and never its
 * text: the gateway runs its manifest's text (TRUSTED_DOCUMENTS, TRUSTED_DOCUMENTS_ONLY). There is
 * no cacheExchange: it would rewrite each document (adding __typename) into one without its hash.
 */

interface HashedDocument { __meta__?: { hash?: string } }

export function createDashboardClient (location: Location = window.location): Client {
  const ws = createWsClient({
    url: `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/graphql`,
    // Connected while a subscription is open; a dropped connection is opened again.
    lazy: true,
    retryAttempts: 5
  })
  return new Client({
    url: `${location.origin}/graphql`,
    // Queries go as GETs (cacheable by a CDN); a GET must show it is not a cross-site form (the gateway's CSRF prevention).
    fetchOptions: { headers: { 'graphql-preflight': '1' } },
    requestPolicy: 'network-only',
    exchanges: [
      persistedExchange({
        enforcePersistedQueries: true,
        enableForMutation: true,
        enableForSubscriptions: true,
        generateHash: async (_text, document) => (document as HashedDocument).__meta__?.hash ?? null
      }),
      fetchExchange,
      subscriptionExchange({
        // graphql-ws requires a "query" string: "" beside the hash in extensions.
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) })
        })
      })
    ]
  })
}

/** One error as the gateway said it: its code, its message, and the request id to quote to an operator. */
export interface GatewayProblem {
  code: string
  message: string
  requestId?: string
}

/** The gateway's errors in a urql error (GraphQL errors, or the network's), in order. */
export function problemsOf (error: CombinedError | undefined): GatewayProblem[] {
  if (error === undefined) return []
  if (error.graphQLErrors.length > 0) {
    return error.graphQLErrors.map((graphQLError) => {
      const extensions = graphQLError.extensions as { code?: unknown, requestId?: unknown }
      return {
        code: typeof extensions.code === 'string' ? extensions.code : 'ERROR',
        message: graphQLError.message,
        ...(typeof extensions.requestId === 'string' ? { requestId: extensions.requestId } : {})
      }
    })
  }
  return [{ code: 'NETWORK', message: `The gateway could not be reached: ${error.networkError?.message ?? error.message}` }]
}
