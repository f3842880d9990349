/*
 * The hostile suite's matrix: every door of the gateway × every class of attack. Each cell has a case
 * (test/hostile/suites/*.ts) or an entry below saying why it cannot apply; test/hostile/coverage.test.ts
 * fails, listing the cells, when a door has neither. A new door (live queries, webhooks...) is one more
 * line in DOORS, and then its cases or its reasons.
 */

export const DOORS = {
  'graphql-http': 'GraphQL over HTTP: POST and GET /graphql',
  websocket: 'GraphQL over WebSocket: /graphql upgrade, graphql-transport-ws',
  sse: 'GraphQL over SSE: /graphql/stream (graphql-sse, both modes)',
  rest: 'REST under /v1 (JSON resources, writes)',
  'rest-events': 'REST event streams: GET /v1/datasets/{id}/events?follow=true',
  'live-query': 'Live queries (@live) over WebSocket, SSE and GraphQL over HTTP event streams: shared executions watching what they read',
  webhooks: 'Webhooks: registration under /v1/webhooks, and deliveries to receivers the caller names (the attacker is the receiver)'
} as const

export const ATTACKS = {
  'large-variables': 'variables as large as the door accepts',
  'many-unique-variables': 'many requests, each with variables never sent before',
  'large-documents': 'documents (or bodies) as large as the door accepts',
  'many-unique-documents': 'many documents (or bodies) never sent before',
  'large-headers': 'one header over the limit, or many headers under it',
  'large-frames': 'a message over the door\'s size limit (a WebSocket frame over 1 MB, an HTTP body over 1 MB)',
  pings: 'graphql-transport-ws ping messages with large payloads',
  'slow-bodies': 'a message started and never finished (slowloris)',
  'slow-readers': 'a client that asks and never reads the answers',
  'open-close-churn': 'connections (or streams) opened and closed as fast as possible',
  'subscribe-complete-churn': 'subscriptions started and completed as fast as possible',
  'forged-tokens': 'well-formed, unexpired tokens Visual Layer refuses (passthrough)',
  'redis-stalled': 'the Redis the replicas share stops answering (SIGSTOP)',
  'redis-down': 'the Redis the replicas share is gone (killed)',
  'upstream-stalled': 'Visual Layer holds one tenant\'s requests past the gateway\'s deadline'
} as const

export type Door = keyof typeof DOORS
export type Attack = keyof typeof ATTACKS

/** Cells that cannot apply, with the reason; a cell listed here must not also have a case. */
export const NOT_APPLICABLE: { readonly [D in Door]: { readonly [A in Attack]?: string } } = {
  'graphql-http': {
    pings: 'HTTP has no ping messages; a connection kept open and idle is open-close-churn and slow-readers',
    'subscribe-complete-churn': 'subscriptions are refused over POST and GET /graphql (QUERY_REJECTED): they run over WebSocket and SSE'
  },
  websocket: {},
  sse: {
    pings: 'SSE sends nothing from client to server but HTTP requests: each is a request of another class here'
  },
  rest: {
    'large-variables': 'REST has no GraphQL variables: its inputs are path and query parameters (large-headers, many-unique-variables) and JSON bodies (large-documents)',
    pings: 'HTTP has no ping messages',
    'subscribe-complete-churn': 'REST has one subscription per connection, its event stream: that is rest-events\' open-close-churn'
  },
  'rest-events': {
    'large-variables': 'the stream takes no variables: its only inputs are the dataset id and follow, checked by the rest door\'s schemas (rest\'s many-unique-variables)',
    'many-unique-variables': 'the same two inputs, refused with 400 before anything is kept, as rest\'s many-unique-variables case holds',
    'large-documents': 'a GET with no document and no body',
    'many-unique-documents': 'a GET with no document and no body',
    'large-frames': 'a GET with no body; its request head is large-headers',
    pings: 'SSE sends nothing from client to server once the stream is open',
    'slow-bodies': 'a GET with no body; a slow request head is read by the same Node parser as every door (graphql-http\'s and rest\'s slow-bodies cases)',
    'subscribe-complete-churn': 'one subscription per connection: subscribing and completing is opening and closing the stream (open-close-churn)'
  },
  'live-query': {
    'large-variables': 'a live query\'s variables reach the same pipeline stages as any operation\'s on the doors it runs on, before anything live starts: websocket\'s and sse\'s large-variables cases hold them',
    'large-documents': 'its document is read under the same limits by the same stage as every operation\'s, before anything live starts: websocket\'s and sse\'s large-documents cases hold them',
    'large-headers': 'it adds no header: its requests and upgrades are the websocket, sse and graphql-http doors\' (their large-headers cases)',
    'large-frames': 'it adds no framing: its messages are the websocket door\'s frames and the sse door\'s bodies (their large-frames cases)',
    pings: 'graphql-transport-ws pings are the websocket door\'s, whatever its operations (websocket × pings)',
    'slow-bodies': 'it adds no body reading: a slow message is the websocket and sse doors\' (their slow-bodies cases)',
    'slow-readers': 'its results are written by the websocket and sse doors (their slow-readers cases bound the bytes); the gateway keeps at most one unsent result per live query, a newer one replacing it (test/live/live-query-bounds.test.ts)',
    'open-close-churn': 'a live query opens no connection of its own: its connections are the websocket and sse doors\' (their open-close-churn cases); starting and ending live queries is subscribe-complete-churn here',
    'redis-stalled': 'a live query reaches Redis through the pollers\' leases and the invalidations\' bridge (which the redis suite stalls under subscriptions), its caller\'s count (the doors\' cluster slots, counted on the replica alone when Redis does not answer within REDIS_REQUEST_TIMEOUT_MS, as connections are: test/cluster/connections.test.ts) and the claims of its executions (unanswered within the link\'s deadline, the replica executes for itself: src/graphql/live-runs.ts)',
    'redis-down': 'a live query reaches Redis through the pollers\' leases and the invalidations\' bridge (which the redis suite kills under subscriptions), its caller\'s count (the doors\' cluster slots, counted on the replica alone while Redis is down) and the claims of its executions (while Redis is down, each replica executes for itself)',
    'upstream-stalled': 'its executions and polls call Visual Layer through the same client and per-tenant breakers as every operation and poller (the upstream-stalled suite)'
  },
  webhooks: {
    'large-variables': 'the routes take no variables: their inputs are JSON bodies (large-documents, many-unique-documents) and path ids',
    'forged-tokens': 'webhooks run where the gateway holds the service account: in passthrough, registration answers 501 before a token is used (test/webhooks/registration.test.ts); in jwt mode a token is checked in the gateway, with no call to Visual Layer',
    'redis-stalled': 'registration answers 503 while Redis is stopped (SIGSTOP), and the events seen meanwhile are delivered once it answers (test/cluster/webhooks.test.ts, on a redis-server of its own)',
    'redis-down': 'the same store and the same refusal as a stalled Redis (RedisUnavailable either way): test/cluster/webhooks.test.ts and its bound on what is kept meanwhile (WEBHOOKS_MAX_PENDING)',
    'upstream-stalled': 'the datasets webhooks follow are polled by the shared pollers, through the same client and per-tenant breakers as subscriptions (the upstream-stalled suite)'
  }
}
