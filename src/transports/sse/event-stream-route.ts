import type { FastifyInstance } from 'fastify'

/*
 * GraphQL over HTTP with `Accept: text/event-stream` at /graphql: the same path as the GraphQL over
 * HTTP door's routes (src/transports/graphql-http), told apart by a route constraint on the Accept header (find-my-way's constraint strategies), so that
 * the SSE door serves event streams there (distinct connections, graphql-sse's protocol, which is what
 * the GraphQL over HTTP spec's event streams are) and the GraphQL over HTTP door answers every other request.
 */

export const EVENT_STREAM_CONSTRAINT = 'eventStream'
/** The constraint's value for a request that prefers an event stream. */
export const WANTS_EVENT_STREAM = 'yes'

/** Whether `accept` asks for text/event-stream over the JSON types (a higher weight, or the same and named first). */
export function prefersEventStream (accept: string | undefined): boolean {
  if (accept === undefined || !accept.toLowerCase().includes('text/event-stream')) return false
  let best: { type: string, q: number } | null = null
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.split(';').map((piece) => piece.trim().toLowerCase())
    const q = params.find((param) => param.startsWith('q='))
    const weight = q === undefined ? 1 : Number(q.slice(2))
    if (!Number.isFinite(weight) || weight <= 0) continue
    if (type !== 'text/event-stream' && type !== 'application/json' && type !== 'application/graphql-response+json') continue
    if (best === null || weight > best.q) best = { type, q: weight }
  }
  return best?.type === 'text/event-stream'
}

/** Adds the constraint to `app`'s router (once per app). */
export function addEventStreamConstraint (app: FastifyInstance): void {
  if (app.hasConstraintStrategy(EVENT_STREAM_CONSTRAINT)) return
  app.addConstraintStrategy({
    name: EVENT_STREAM_CONSTRAINT,
    // A request that does not prefer an event stream derives nothing and reaches the unconstrained route.
    mustMatchWhenDerived: false,
    storage () {
      const handlers = new Map<string, unknown>()
      return {
        get: (value: string) => (handlers.get(value) ?? null) as never,
        set: (value: string, handler: unknown) => { handlers.set(value, handler) }
      }
    },
    deriveConstraint: (req) => prefersEventStream(req.headers.accept) ? WANTS_EVENT_STREAM : undefined as unknown as string
  })
}
