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
import { getOperationAST, parse, type DocumentNode, type ExecutionResult, type OperationDefinitionNode } from 'graphql'
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

/**
 * The operation GraphiQL asks to run, parsed here. For 100 ms after a tab change or an edit, GraphiQL still
 * holds the operation name of the text it showed before: a name the document does not have is read as the
 * document's single operation (a document of several operations keeps the name, and the server says it is
 * not there). null when the text does not parse: sent as it is, and the server reports the syntax error.
 */
function chosenOperation (query: string, operationName: string | undefined): { document: DocumentNode, operation: OperationDefinitionNode | null } | null {
  try {
    const document = parse(query)
    return { document, operation: getOperationAST(document, operationName) ?? getOperationAST(document) ?? null }
  } catch {
    return null
  }
}

/** Whether an operation is a live query (`@live`): the toolkit would POST it, and it must stream. */
function isLiveQuery (operation: OperationDefinitionNode, variables: unknown): boolean {
  return operation.operation === 'query' &&
    isLiveQueryOperationDefinitionNode(operation, typeof variables === 'object' && variables !== null ? variables as Record<string, unknown> : undefined)
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
    const given = typeof params.operationName === 'string' && params.operationName !== '' ? params.operationName : undefined
    const chosen = typeof params.query === 'string' ? chosenOperation(params.query, given) : null
    const operation = chosen?.operation ?? null
    const operationName = operation === null ? given ?? null : operation.name?.value ?? null
    if (operation !== null && isLiveQuery(operation, params.variables)) {
      fetcherFor(headers)
      const client = current?.client
      // The same results, as GraphQL's own type (graphql-ws types them as received over the wire).
      if (client !== undefined) {
        const request = { query: params.query, variables: params.variables ?? undefined, operationName }
        return client.iterate(request) as AsyncIterableIterator<ExecutionResult>
      }
    }
    // The toolkit sends by WebSocket exactly when it is given a document whose named operation is a subscription.
    const subscription = operation?.operation === 'subscription' ? chosen?.document : undefined
    const toolkitOptions: FetcherOpts = { ...options, headers, documentAST: subscription }
    const toolkitParams: FetcherParams = { ...params, operationName }
    return fetcherFor(headers)(toolkitParams, toolkitOptions)
  }
}
