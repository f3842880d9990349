import type { Caller } from '../../auth/index.js'
import { operationAbort } from '../authenticate.js'
import type { ClusterSlots } from '../caller-slots.js'

/**
 * The SSE streams open at this gateway: how many each caller holds (distinct-connection streams,
 * and single-connection streams from their PUT until they close), and who owns each
 * single-connection stream, so that its token lets nobody else add operations to it or read it.
 */

/** A single-connection stream, from its reservation (PUT) until it closes. */
export interface OwnedStream {
  readonly token: string
  /** Who may use the stream (see ownerOf). */
  readonly owner: string
  /** The key its slot was taken under (a passthrough caller's key changes once its token is proven). */
  readonly countedAs: string
  /** Aborted when the stream closes: the upstream calls of its operations stop. */
  readonly closed: AbortController
  opened: boolean
  /** Operations running on it, counted against the per-stream limit. */
  operations: number
  /** Cancels the timer that ends a reservation never opened. */
  expiry: () => void
}

/** Who owns a stream: the verified subject, the Visual Layer account a token names, or the service account. */
export function ownerOf (caller: Caller): string {
  if (caller.subject !== null) return `jwt:${caller.subject}`
  if (caller.credential.kind === 'bearer') return `bearer:${caller.credential.subject}`
  return caller.credential.kind
}

export class SseStreams {
  private readonly owned = new Map<string, OwnedStream>()

  /** Slots per caller, across the replicas with REDIS_URL. */
  constructor (private readonly slots: ClusterSlots) {}

  /** Counts one more stream for the caller, or false at its limit. */
  async take (callerKey: string): Promise<boolean> {
    return await this.slots.take(callerKey)
  }

  release (callerKey: string): void {
    this.slots.release(callerKey)
  }

  /** Records a reserved single-connection stream (its slot already taken). */
  reserve (token: string, owner: string, countedAs: string): OwnedStream {
    // Aborted by end(): every upstream call of every operation on the stream listens to it.
    const closed = operationAbort()
    const stream: OwnedStream = { token, owner, countedAs, closed, opened: false, operations: 0, expiry: () => {} }
    this.owned.set(token, stream)
    return stream
  }

  /** The caller's own stream of this token; another caller's is as unknown as a made-up one. */
  ownedBy (token: string, owner: string): OwnedStream | undefined {
    const stream = this.owned.get(token)
    return stream?.owner === owner ? stream : undefined
  }

  /** Forgets a single-connection stream: its slot is released, its operations' calls aborted. */
  end (stream: OwnedStream): void {
    if (this.owned.get(stream.token) !== stream) return
    this.owned.delete(stream.token)
    stream.expiry()
    stream.closed.abort()
    this.release(stream.countedAs)
  }

  reservations (): OwnedStream[] {
    return [...this.owned.values()]
  }
}
