import type { Context as TraceContext } from '@opentelemetry/api'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { callerKey } from '../../auth/index.js'
import { watchDataset } from '../../domain/live/watch.js'
import { ClusterSlots } from '../caller-slots.js'
import { connectionEnded } from '../events.js'
import type { DatasetParent } from '../../domain/parents.js'
import { streamDatasetEvents, type EventStreamOptions } from './event-stream.js'
import { problemOf, sendProblem, type Problem } from './problem.js'
import type { RestContext, Routes } from './routes.js'
import { EventStream } from './document-schemas.js'
import { DatasetParams, EventsQuery } from './schemas.js'

/*
 * GET /v1/datasets/{id}/events: the route of a dataset's event stream (event-stream.ts writes it). Each
 * stream is an operation of the pipeline (app.pipeline.admit): its record (log line, metrics, span),
 * the caller's ceiling (REST_MAX_STREAMS_PER_CALLER) and its context, which the client leaving
 * aborts, come from there; this door adds what is its own: every stream ended on shutdown. The
 * live resource (GET /v1/datasets/{id}?live=1, reads.ts) opens its streams through the same opener.
 */

export interface DatasetEventsOptions {
  /** Event streams one caller may hold at once (REST_MAX_STREAMS_PER_CALLER), counted as SSE streams are. */
  maxStreamsPerCaller: number
  /** Bytes an event stream may hold unsent for a client that does not read (STREAM_MAX_BUFFERED_BYTES). */
  maxBufferedBytes: number
}

/** What a stream follows, given its operation's context: the dataset's states, and how each is sent. */
export type DatasetFollow = Pick<EventStreamOptions, 'event' | 'render'> & { events: AsyncIterator<DatasetParent> }

/** Opens a dataset's event stream for a request, under its caller's ceiling: /events and the live resource (?live=1) alike. */
export type OpenDatasetStream = (request: FastifyRequest, reply: FastifyReply, follow: (ctx: RestContext) => DatasetFollow) => Promise<FastifyReply>

/** What @fastify/otel decorates requests with, when tracing is on (src/plugins/http-spans.ts). */
interface Traced {
  opentelemetry?: () => { context?: TraceContext | null }
}

/** Requests whose operation the pipeline records (the REST door's own count of its answers leaves them out). */
const recorded = new WeakSet<FastifyRequest>()
export function recordedByPipeline (request: FastifyRequest): boolean {
  return recorded.has(request)
}

/**
 * The event streams of /v1: each caller's counted against REST_MAX_STREAMS_PER_CALLER (with the slots
 * SSE streams use, across replicas with REDIS_URL, in a pool of their own), each bounded in what it
 * holds unsent, each ended when its token expires and on shutdown.
 */
export function datasetStreams (app: FastifyInstance, options: DatasetEventsOptions): OpenDatasetStream {
  const { auth, pipeline, operations } = app
  /** Ends each open event stream: shutdown calls them all. */
  const open = new Set<() => void>()
  const track = (end: () => void): (() => void) => {
    open.add(end)
    return () => {
      open.delete(end)
      connectionEnded(app.server, 'rest-events', () => open.size)
    }
  }
  app.metrics.watchSseStreams('rest', () => open.size)
  const streamSlots = new ClusterSlots(
    options.maxStreamsPerCaller, app.sharedState.slots('rest-events'), app.log.child({ component: 'rest-events' })
  )
  const ceiling = {
    take: async (lane: string) => await streamSlots.take(lane),
    release: (lane: string) => { streamSlots.release(lane) },
    refusal: `Too many event streams: at most ${options.maxStreamsPerCaller} per caller at once (REST_MAX_STREAMS_PER_CALLER). Close one before opening another.`
  }
  app.addHook('preClose', async () => {
    for (const end of [...open]) end()
    await streamSlots.close()
  })
  return async (request, reply, follow) => {
    const caller = request.caller
    if (caller === null) throw new Error('unreachable: onRequest authenticates every request')
    recorded.add(request)
    const requestId = String(request.id)
    const parent = operations.tracing ? (request as Traced).opentelemetry?.().context ?? undefined : undefined
    const { admitted, refusal } = await pipeline.admit({ transport: 'rest', requestId, log: request.log, logNamesRequest: true, parent }, {
      caller,
      lane: callerKey(auth, caller, request.ip),
      type: 'query',
      name: request.routeOptions.config.operationId ?? 'unknown',
      leaving: reply.raw,
      ceiling,
      stream: true
    })
    if (refusal !== undefined) return sendProblem(reply, problemOf(refusal.code, refusal.message, requestId))
    try {
      // Each event reads afresh, under a renewed call budget, as subscriptions do.
      const { events, ...shape } = follow(admitted.context)
      const onProblem = (problem: Problem): void => { admitted.fail(problem.code, problem.detail) }
      // The operation ends with its stream, before the stream's end is announced (connectionEnded).
      const trackOne = (end: () => void): (() => void) => {
        const untrack = track(end)
        return () => {
          admitted.finish()
          untrack()
        }
      }
      const { maxBufferedBytes } = options
      return await streamDatasetEvents({ request, reply, events, expiresAt: caller.expiresAt, track: trackOne, maxBufferedBytes, onProblem, ...shape })
    } finally {
      admitted.finish()
    }
  }
}

export function registerDatasetEvents ({ route }: Routes, openStream: OpenDatasetStream): void {
  route({
    method: 'GET',
    url: '/datasets/:id/events',
    operationId: 'streamDatasetEvents',
    summary: 'The dataset\'s status now, then each time it changes, as Server-Sent Events; ends after READY, PARTIAL INDEX or ERROR unless follow=true.',
    tags: ['datasets'],
    params: DatasetParams,
    query: EventsQuery,
    headers: { 'Last-Event-ID': z.string().meta({ description: 'On reconnect: the id of the last event received; that state is not sent again.' }).optional() },
    success: { status: 200, schema: EventStream, description: 'The event stream.', mediaType: 'text/event-stream' },
    problems: [404]
  }, async (request, reply, { params, query }) => {
    return await openStream(request, reply, (ctx) => ({ events: watchDataset(ctx, params.id, query.follow ?? false) }))
  })
}
