import type { OutgoingHttpHeaders } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { DatasetParent } from '../../domain/parents.js'
import { etagOf, plain } from './representation.js'
import { problemFromError, problemOf, sendProblem, type Problem } from './problem.js'

/*
 * GET /v1/datasets/{id}/events: a dataset's status as text/event-stream, from the iterator of
 * watchDataset (the shared poller of the dataset and credential scope, as for subscriptions). The
 * first event is awaited before anything is written, so a dataset one may not see is still a 404
 * problem. Each event is `event: status` with the dataset as JSON and, as its id, the ETag of that
 * JSON: a client reconnecting with Last-Event-ID is not sent the state it already has again. The
 * stream ends with `event: complete` after READY or ERROR (unless ?follow=true), with
 * `event: problem` on a failure or when the caller's token expires, and on shutdown. A client that
 * does not read has its stream ended once more than `maxBufferedBytes` wait unsent.
 */

const KEEP_ALIVE_MS = 15_000

export interface EventStreamOptions {
  request: FastifyRequest
  reply: FastifyReply
  events: AsyncIterator<DatasetParent>
  /** When the caller's token expires (ms since the epoch), or null. */
  expiresAt: number | null
  /** The stream registers its end here, for shutdown; the returned function unregisters it. */
  track: (end: () => void) => () => void
  /** Bytes the stream may hold unsent (STREAM_MAX_BUFFERED_BYTES). */
  maxBufferedBytes: number
  /** The name of each state's event: `status` (the default, /events) or `dataset` (the live resource). */
  event?: string
  /** What each state is sent as (the live resource: the dataset with its includes); the dataset alone by default. */
  render?: (dataset: DatasetParent) => Promise<unknown>
  /** Told of the problem the stream answers or ends with (the operation's outcome). */
  onProblem?: (problem: Problem) => void
}

function frame (event: string, data: string, id?: string): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${data}\n\n`
}

export async function streamDatasetEvents (
  { request, reply, events, expiresAt, track, maxBufferedBytes, event = 'status', render, onProblem }: EventStreamOptions
): Promise<FastifyReply> {
  // A client that leaves while the first event is awaited (Visual Layer slow) ends its watch now, not
  // once Visual Layer answers (with follow=true: never); the watch's return() takes effect at once.
  const leftEarly = (): void => { events.return?.().catch(() => {}) }
  reply.raw.once('close', leftEarly)
  let first: IteratorResult<DatasetParent>
  let firstBody: unknown
  try {
    first = await events.next()
    // Rendered before the answer starts too: an include that fails is still a problem answer, not a stream.
    if (first.done !== true && render !== undefined) firstBody = await render(first.value)
  } catch (err) {
    await events.return?.()
    const problem = problemFromError(err, request)
    onProblem?.(problem)
    return sendProblem(reply, problem)
  } finally {
    reply.raw.off('close', leftEarly)
  }
  const lastEventId = request.headers['last-event-id']
  reply.hijack()
  const raw = reply.raw
  if (raw.destroyed) return reply
  raw.writeHead(200, {
    ...(reply.getHeaders() as OutgoingHttpHeaders),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no'
  })
  let ended = false
  const end = (last?: string): void => {
    if (ended) return
    ended = true
    clearInterval(keepAlive)
    clearTimeout(expiry)
    untrack()
    if (last !== undefined && !raw.destroyed) raw.write(last)
    if (!raw.destroyed) raw.end()
    events.return?.().catch(() => {})
  }
  const problemFrame = (problem: Problem): string => frame('problem', JSON.stringify(problem))
  const write = (text: string): void => {
    raw.write(text)
    // writableLength counts what the socket has not taken yet: the kernel's buffers are full, the client does not read.
    if (raw.writableLength <= maxBufferedBytes) return
    request.log.info({ buffered: raw.writableLength, maxBufferedBytes }, 'Event stream ended: its client does not read what it is sent')
    raw.destroy()
    end()
  }
  const keepAlive = setInterval(() => { write(': keep-alive\n\n') }, KEEP_ALIVE_MS)
  const expiry = expiresAt === null
    ? undefined
    : setTimeout(() => {
      const problem = expired(String(request.id))
      onProblem?.(problem)
      end(problemFrame(problem))
    }, Math.max(0, expiresAt - Date.now()))
  const untrack = track(() => { end() })
  raw.once('close', () => { end() })

  let lastSent = lastEventId
  const send = (body: unknown): void => {
    const data = JSON.stringify(body)
    const id = etagOf(data).slice(1, -1)
    // Reconnected: the state the client saw last is not sent again; nor is a state the same as the last one sent.
    if (id === lastSent) return
    lastSent = id
    write(frame(event, data, id))
  }
  const bodyOf = async (dataset: DatasetParent): Promise<unknown> => render === undefined ? plain(dataset, request.log) : await render(dataset)
  try {
    let next = first
    let body = render === undefined || next.done === true ? undefined : firstBody
    while (next.done !== true) {
      const value = body ?? await bodyOf(next.value)
      body = undefined
      if (ended) return reply
      send(value)
      // The client left, the token expired or the gateway is closing: end() returned the iterator.
      if (ended) return reply
      next = await events.next()
    }
    end(frame('complete', '{}'))
  } catch (err) {
    const problem = problemFromError(err, request)
    onProblem?.(problem)
    end(problemFrame(problem))
  }
  return reply
}

function expired (requestId: string): Problem {
  return problemOf('UNAUTHENTICATED', 'The token expired: reconnect with a fresh one (send Last-Event-ID to skip the state already seen).', requestId)
}
