import { channel } from 'node:diagnostics_channel'
import { queryString, type Answer, type Credential, type Dispatch, type Resource } from '../exchange.js'

/**
 * Identical GETs in flight at the same moment in the same credential scope share one upstream
 * call. Each waiter stops waiting on its own cancel; the shared call is aborted when the last of
 * its waiters has gone (the caller's cancel reaches Visual Layer, a sibling's does not). Each read
 * records the resource it concerns, so that a write can drop the reads it made stale.
 */

/** Reads any write may change, whatever it touched. */
const LISTS: ReadonlySet<Resource['kind']> = new Set(['dataset-list', 'task-list', 'task-filters'])

/**
 * Each read that joins one in flight, for whoever listens (a test that waits for the join rather
 * than for time): `{ reads, endpoint, path }`, `reads` being the SharedReads instance (one per client).
 */
export const sharedReadJoins = channel('visual-layer:upstream:shared-read')

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

  constructor (private readonly scopeOf: (credential: Credential) => string, private readonly onShared: (endpoint: string) => void = () => {}) {}

  /** The layer: wraps the logical call of every GET; other methods pass through. */
  readonly layer = (next: Dispatch): Dispatch => {
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
        const entry: SharedRead = {
          resource: request.resource,
          controller,
          waiters: 0,
          answer: next({ ...exchange, call: { ...call, signal: controller.signal } })
        }
        const forget = (): void => { this.drop(scope, key, entry) }
        entry.answer.then(forget, forget)
        reads.set(key, entry)
        shared = entry
      } else {
        this.onShared(request.endpoint)
        if (sharedReadJoins.hasSubscribers) sharedReadJoins.publish({ reads: this, endpoint: request.endpoint, path: key })
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

  /**
   * After a write in one scope: drops the reads of the datasets it touched, and every list (any
   * write may change one). Later identical reads send anew; those already waiting keep their answer.
   */
  forget (scope: string, datasetIds: readonly string[]): void {
    const reads = this.scopes.get(scope)
    if (reads === undefined) return
    const touched = new Set(datasetIds)
    for (const [key, { resource }] of reads) {
      if (LISTS.has(resource.kind) || (resource.datasetId !== undefined && touched.has(resource.datasetId))) reads.delete(key)
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
