import { queryString, type Answer, type Credential, type Dispatch, type Resource } from '../exchange.js'

/**
 * Identical GETs in flight at the same moment in the same credential scope share one upstream
 * call. Each waiter stops waiting on its own cancel; the shared call is aborted when the last of
 * its waiters has gone (the caller's cancel reaches Visual Layer, a sibling's does not). Each read
 * records the resource it concerns, so that a write can drop the reads it made stale.
 */

/** A GET in flight, shared by every identical request of one scope until it settles. */
interface SharedRead {
  readonly resource: Resource
  readonly answer: Promise<Answer>
  readonly controller: AbortController
  waiters: number
}

export class SharedReads {
  /** Reads in flight by scope, then by the request they send (path and query). */
  private readonly scopes = new Map<string, Map<string, SharedRead>>()

  constructor (private readonly scopeOf: (credential: Credential) => string) {}

  /** The layer: wraps the logical call of every GET; other methods pass through. */
  wrap (next: Dispatch): Dispatch {
    return (exchange) => {
      const { request, call } = exchange
      if (request.method !== 'GET') return next(exchange)
      const scope = call.credential === null ? 'anonymous' : this.scopeOf(call.credential)
      const key = request.path + queryString(request.query)
      let reads = this.scopes.get(scope)
      if (reads === undefined) {
        reads = new Map()
        this.scopes.set(scope, reads)
      }
      let shared = reads.get(key)
      if (shared === undefined) {
        const controller = new AbortController()
        const entry: SharedRead = { resource: request.resource, controller, waiters: 0, answer: next({ ...exchange, call: { ...call, signal: controller.signal } }) }
        const forget = (): void => { this.drop(scope, key, entry) }
        entry.answer.then(forget, forget)
        reads.set(key, entry)
        shared = entry
      }
      const joined = shared
      joined.waiters++
      if (call.signal === undefined) return joined.answer
      return abortable(joined.answer, call.signal, () => {
        joined.waiters--
        if (joined.waiters > 0) return
        joined.controller.abort(call.signal?.reason)
        this.drop(scope, key, joined)
      })
    }
  }

  /** Drops the reads of one scope whose resource `stale` says a write has changed. */
  forget (scope: string, stale: (resource: Resource) => boolean): void {
    const reads = this.scopes.get(scope)
    if (reads === undefined) return
    for (const [key, read] of reads) {
      if (stale(read.resource)) reads.delete(key)
    }
    if (reads.size === 0) this.scopes.delete(scope)
  }

  /** Reads in flight, all scopes together (for tests). */
  get size (): number {
    let size = 0
    for (const reads of this.scopes.values()) size += reads.size
    return size
  }

  private drop (scope: string, key: string, read: SharedRead): void {
    const reads = this.scopes.get(scope)
    if (reads?.get(key) !== read) return
    reads.delete(key)
    if (reads.size === 0) this.scopes.delete(scope)
  }
}

function abortable<T> (pending: Promise<T>, signal: AbortSignal, onLeave: () => void): Promise<T> {
  if (signal.aborted) {
    onLeave()
    return Promise.reject(signal.reason)
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => { onLeave(); reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
    pending.then(
      (value) => { signal.removeEventListener('abort', onAbort); resolve(value) },
      (err: unknown) => { signal.removeEventListener('abort', onAbort); reject(err) }
    )
  })
}
