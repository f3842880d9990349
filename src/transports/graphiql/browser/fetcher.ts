/*
 * GraphiQL's fetcher: queries and mutations by POST to the endpoint, subscriptions over graphql-ws
 * (`graphql-transport-ws`) at the same host and path, both from @graphiql/toolkit's
 * createGraphiQLFetcher.
 *
 * The headers typed in the headers editor go with every POST and in the WebSocket's
 * `connection_init` payload, their names lower-cased there (Node keeps request header names
 * lower-case, and a payload is read as headers). The socket is opened lazily and replaced when the
 * headers change. An Authorization header still holding the placeholder the page shows in token
 * modes (`Bearer <token>`) is not sent: the schema still loads (introspection needs no token), and
 * a query says that the token is missing.
 */
import { createGraphiQLFetcher, type Fetcher, type FetcherOpts, type FetcherParams } from '@graphiql/toolkit'
import { getOperationAST, parse, type DocumentNode } from 'graphql'
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
    const subscription = typeof params.query === 'string' ? subscriptionDocument(params.query, operationName) : null
    // The toolkit sends by WebSocket exactly when it is given a document whose named operation is a subscription.
    const toolkitOptions: FetcherOpts = { ...options, headers, documentAST: subscription?.document ?? undefined }
    const toolkitParams: FetcherParams = subscription === null ? params : { ...params, operationName: subscription.name ?? null }
    return fetcherFor(headers)(toolkitParams, toolkitOptions)
  }
}
