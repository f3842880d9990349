import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { callerKey } from '../../auth/index.js'
import { watchDataset } from '../../domain/live/watch.js'
import { ClusterSlots } from '../caller-slots.js'
import { connectionEnded } from '../events.js'
import type { DatasetParent } from '../../domain/parents.js'
import { streamDatasetEvents, type EventStreamOptions } from './event-stream.js'
import { problemOf, sendProblem } from './problem.js'
import type { RestContext, Routes } from './routes.js'
import { EventStream } from './document-schemas.js'
import { DatasetParams, EventsQuery } from './schemas.js'

/*
 * GET /v1/datasets/{id}/events: the route of a dataset's event stream (event-stream.ts writes it), each
 * caller's streams counted against REST_MAX_STREAMS_PER_CALLER, every stream ended on shutdown. The
 * live resource (GET /v1/datasets/{id}?live=1, reads.ts) opens its streams through the same opener.
 */

export interface DatasetEventsOptions {
  /** Event streams one caller may hold at once (REST_MAX_STREAMS_PER_CALLER), counted as SSE streams are. */
  maxStreamsPerCaller: number
  /** Bytes an event stream may hold unsent for a client that does not read (STREAM_MAX_BUFFERED_BYTES). */
  maxBufferedBytes: number
}

/** Opens a dataset's event stream for a request, under its caller's cap: /events and the live resource (?live=1) alike. */
export type OpenDatasetStream = (
  request: FastifyRequest, reply: FastifyReply, ctx: RestContext,
  watch: () => AsyncIterator<DatasetParent>, shape: Pick<EventStreamOptions, 'event' | 'render'>
) => Promise<FastifyReply>

/**
 * The event streams of /v1: each caller's counted against REST_MAX_STREAMS_PER_CALLER (with the slots
 * SSE streams use, across replicas with REDIS_URL, in a pool of their own), each bounded in what it
 * holds unsent, each ended when its token expires and on shutdown.
 */
export function datasetStreams (app: FastifyInstance, options: DatasetEventsOptions): OpenDatasetStream {
  const { auth } = app
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
  app.addHook('preClose', async () => {
    for (const end of [...open]) end()
    await streamSlots.close()
  })
  return async (request, reply, ctx, watch, shape) => {
    const key = callerKey(auth, ctx.caller, request.ip)
    if (!await streamSlots.take(key)) {
      return sendProblem(reply, problemOf(
        'RATE_LIMITED',
        `Too many event streams: at most ${options.maxStreamsPerCaller} per caller at once (REST_MAX_STREAMS_PER_CALLER). Close one before opening another.`,
        String(request.id)
      ))
    }
    // Freed once, whichever comes first: the stream's end, or its client leaving (also while the slot was taken).
    let held = true
    const release = (): void => {
      if (!held) return
      held = false
      streamSlots.release(key)
    }
    if (reply.raw.closed) release()
    else reply.raw.once('close', release)
    try {
      // Each event reads afresh, under a renewed call budget, as subscriptions do.
      const events = watch()
      return await streamDatasetEvents({ request, reply, events, expiresAt: ctx.caller.expiresAt, track, maxBufferedBytes: options.maxBufferedBytes, ...shape })
    } finally {
      release()
    }
  }
}

export function registerDatasetEvents ({ route, contextOf }: Routes, openStream: OpenDatasetStream): void {
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
    const ctx = contextOf(request, reply)
    return await openStream(request, reply, ctx, () => watchDataset(ctx, params.id, query.follow ?? false), {})
  })
}
