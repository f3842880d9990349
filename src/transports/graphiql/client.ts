/**
 * The browser side of the self-hosted GraphiQL page, served as static files (the page's
 * Content-Security-Policy forbids inline script and inline style).
 *
 * The script expects, loaded before it: React 18, ReactDOM 18, graphql-ws (UMD global
 * `graphqlWs`) and GraphiQL (UMD global `GraphiQL`). It reads the GraphQL endpoint from the
 * `data-endpoint` attribute of `#graphiql`, sends queries and mutations there by POST, and
 * subscriptions over graphql-ws (`graphql-transport-ws`) at the same host and path.
 *
 * The headers typed in GraphiQL's headers editor go with every POST and in the `connection_init`
 * payload of the WebSocket. Names are lower-cased there: mercurius copies that payload onto the
 * request's headers as is, where Node keeps header names lower-case (`authorization`). The socket
 * is opened lazily and replaced when the headers change.
 *
 * Kept as plain JavaScript in a string: `tsc` compiles `src/` to `dist/` and copies no other file,
 * so this reaches `dist/` as part of a module.
 */
export const BOOTSTRAP_JS = `/* GraphiQL bootstrap served by the gateway. */
(function () {
  'use strict'
  const container = document.getElementById('graphiql')
  if (typeof window.GraphiQL !== 'function' || typeof window.graphqlWs !== 'object' || typeof window.GraphiQL.GraphQL !== 'object') {
    container.textContent = 'GraphiQL could not load its scripts.'
    return
  }
  const endpoint = new URL(container.getAttribute('data-endpoint'), window.location.href)
  const socketUrl = new URL(endpoint.href)
  socketUrl.protocol = window.location.protocol === 'https:' ? 'wss:' : 'ws:'

  function headerObject (headers) {
    const out = {}
    if (headers !== null && typeof headers === 'object') {
      for (const name of Object.keys(headers)) {
        const value = headers[name]
        if (value === undefined || value === null) continue
        out[name.toLowerCase()] = typeof value === 'string' ? value : JSON.stringify(value)
      }
    }
    return out
  }

  // Parsed here: GraphiQL's documentAST is the last one that parsed, stale while the query has a syntax error.
  const graphql = window.GraphiQL.GraphQL
  function operationType (query, operationName) {
    try {
      const operation = graphql.getOperationAST(graphql.parse(query), typeof operationName === 'string' && operationName !== '' ? operationName : undefined)
      return operation === null ? null : operation.operation
    } catch {
      return null // the server reports the syntax error
    }
  }

  async function post (params, headers) {
    const response = await fetch(endpoint.href, {
      method: 'POST',
      headers: { accept: 'application/json', ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(params),
      credentials: 'same-origin'
    })
    const text = await response.text()
    try {
      return JSON.parse(text)
    } catch {
      throw new Error('HTTP ' + response.status + ' ' + response.statusText + ': ' + text.slice(0, 2000))
    }
  }

  let socket = null
  function socketClient (headers) {
    const key = JSON.stringify(headers)
    if (socket !== null && socket.key === key) return socket.client
    if (socket !== null) socket.client.dispose()
    const client = window.graphqlWs.createClient({
      url: socketUrl.href,
      connectionParams: headers,
      lazy: true,
      retryAttempts: 2
    })
    socket = { key, client }
    return client
  }

  function errorResult (error) {
    if (Array.isArray(error)) return { errors: error }
    if (error instanceof Error) return { errors: [{ message: error.message }] }
    if (error !== null && typeof error === 'object' && typeof error.code === 'number') {
      return { errors: [{ message: 'WebSocket closed with code ' + error.code + (error.reason ? ': ' + error.reason : '') }] }
    }
    return { errors: [{ message: 'WebSocket error: could not reach ' + socketUrl.href }] }
  }

  // An async iterator over the subscription's results; a failure becomes one last result.
  function subscribe (client, params) {
    const source = client.iterate(params)
    let failed = false
    const iterator = {
      next () {
        if (failed) return Promise.resolve({ done: true, value: undefined })
        return source.next().catch((error) => {
          failed = true
          return { done: false, value: errorResult(error) }
        })
      },
      return () {
        return typeof source.return === 'function' ? source.return() : Promise.resolve({ done: true, value: undefined })
      },
      [Symbol.asyncIterator] () { return iterator }
    }
    return iterator
  }

  function fetcher (params, options) {
    const headers = headerObject(options === undefined ? undefined : options.headers)
    if (typeof params.query === 'string' && operationType(params.query, params.operationName) === 'subscription') {
      return subscribe(socketClient(headers), params)
    }
    return post(params, headers)
  }

  window.ReactDOM.createRoot(container).render(window.React.createElement(window.GraphiQL, {
    fetcher,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false
  }))
})()
`

/** The page's own style (inline style is forbidden by its CSP). */
export const PAGE_CSS = `html, body { height: 100%; margin: 0; overflow: hidden; }
#graphiql { height: 100vh; }
`
