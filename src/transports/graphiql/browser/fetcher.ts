/*
 * GraphiQL's fetcher: queries and mutations by POST to the endpoint, subscriptions over graphql-ws
 * (`graphql-transport-ws`) at the same host and path, both from @graphiql/toolkit's
 * createGraphiQLFetcher; live queries (`@live`) over the same socket, each result shown as it comes.
 *
 * The headers typed in the headers editor go with every POST and in the WebSocket's
 * `connection_init` payload, their names lower-cased there (Node keeps request header names
 * lower-case, and a payload is read as headers). The socket is opened lazily and replaced when the
 * headers change. An Authorization header still holding the placeholder the page shows in token
 * modes (`Bearer <token>`) is not sent: the schema still loads (introspection needs no token), and
 * a query says that the token is missing.
 */
import { isLiveQueryOperationDefinitionNode } from '@n1ru4l/graphql-live-query'
import { createGraphiQLFetcher, type Fetcher, type FetcherOpts, type FetcherParams } from '@graphiql/toolkit'
import { getOperationAST, parse, type DocumentNode, type ExecutionResult } from 'graphql'
import { createClient, type Client } from 'graphql-ws'

export const TOKEN_PLACEHOLDER = 'Bearer <token>'

function headerObject (headers: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (headers === null || typeof headers !== 'object') return out
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    if (value === undefined || value === null) continue
    const text = typeof value === 'string' ? value : JSON.stringify(value)
    if (name.toLowerCase() === 'authorization' && text.trim() === TOKEN_PLACEHOLDER) continue
    out[name.toLowerCase()] = text
  }
  return out
}

/** The document when its chosen operation is a subscription (parsed here: GraphiQL's may be stale while the text does not parse). */
function subscriptionDocument (query: string, operationName: string | undefined): { document: DocumentNode, name: string | undefined } | null {
  try {
    const document = parse(query)
    // GraphiQL may still hold the operation name of the tab it showed before: a name the document does
    // not have is ignored when the document has a single operation.
    const operation = getOperationAST(document, operationName) ?? getOperationAST(document)
    return operation?.operation === 'subscription' ? { document, name: operation.name?.value } : null
  } catch {
    return null // not a subscription we can tell: sent by POST, and the server reports the syntax error
  }
}

/** Whether the chosen operation is a live query (`@live`): the toolkit would POST it, and it must stream. */
function isLiveQuery (query: string, operationName: string | undefined, variables: unknown): boolean {
  try {
    const document = parse(query)
    const operation = getOperationAST(document, operationName) ?? getOperationAST(document)
    return operation !== null && operation !== undefined && operation.operation === 'query' &&
      isLiveQueryOperationDefinitionNode(operation, typeof variables === 'object' && variables !== null ? variables as Record<string, unknown> : undefined)
  } catch {
    return false
  }
}

export function gatewayFetcher (endpoint: URL): Fetcher {
  const socketUrl = new URL(endpoint.href)
  socketUrl.protocol = endpoint.protocol === 'https:' ? 'wss:' : 'ws:'
  let current: { key: string, client: Client, fetcher: Fetcher } | null = null

  const fetcherFor = (headers: Record<string, string>): Fetcher => {
    const key = JSON.stringify(headers)
    if (current !== null && current.key === key) return current.fetcher
    void current?.client.dispose()
    const client = createClient({ url: socketUrl.href, connectionParams: headers, lazy: true, retryAttempts: 0 })
    current = { key, client, fetcher: createGraphiQLFetcher({ url: endpoint.href, wsClient: client }) }
    return current.fetcher
  }

  return (params: FetcherParams, options?: FetcherOpts) => {
    const headers = headerObject(options?.headers)
    const operationName = typeof params.operationName === 'string' && params.operationName !== '' ? params.operationName : undefined
    if (typeof params.query === 'string' && isLiveQuery(params.query, operationName, params.variables)) {
      fetcherFor(headers)
      const client = current?.client
      // The same results, as GraphQL's own type (graphql-ws types them as received over the wire).
      if (client !== undefined) {
        const request = { query: params.query, variables: params.variables ?? undefined, operationName: operationName ?? null }
        return client.iterate(request) as AsyncIterableIterator<ExecutionResult>
      }
    }
    const subscription = typeof params.query === 'string' ? subscriptionDocument(params.query, operationName) : null
    // The toolkit sends by WebSocket exactly when it is given a document whose named operation is a subscription.
    const toolkitOptions: FetcherOpts = { ...options, headers, documentAST: subscription?.document ?? undefined }
    const toolkitParams: FetcherParams = subscription === null ? params : { ...params, operationName: subscription.name ?? null }
    return fetcherFor(headers)(toolkitParams, toolkitOptions)
  }
}
