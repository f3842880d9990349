import { createHash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { GatewayError } from '../../errors.js'

/**
 * Idempotency records of writes, per credential scope: the first call with a key does the write;
 * a later or concurrent call with the same key and the same arguments gets the first call's result
 * without writing again; the same key with other arguments is refused. Only a success is kept, for
 * the window; a failure is forgotten so that the caller may try again (and concurrent callers that
 * joined the failed attempt receive its error rather than writing a second time).
 */

/** What a caller holding a key learns from the store. */
export type Claim<T> =
  /** A call with this key succeeded or is under way: wait for it and answer with its result. */
  | { readonly kind: 'replay', readonly result: Promise<T> }
  /** The key was used with other arguments. */
  | { readonly kind: 'mismatch' }
  /** The key is free: this caller writes, then reports the outcome. */
  | { readonly kind: 'owner', readonly succeed: (value: T, alsoScopes?: readonly string[]) => Promise<void>, readonly fail: (err: unknown) => void }

/**
 * Where the records live: this process (IdempotencyStore), or Redis when replicas share them
 * (src/cluster/idempotency.ts). A store that cannot answer throws IdempotencyStoreUnavailable.
 */
export interface IdempotencyRecords<T> {
  /**
   * Looks up `key` in `scope` for a call with these `arguments` (any canonical text), and claims
   * the key when it is free. The owner must call `succeed` or `fail` exactly once.
   */
  claim: (scope: string, key: string, args: string) => Promise<Claim<T>>
}

/**
 * The shared store of records cannot be reached, so whether the key was used cannot be known: the
 * write is refused rather than risk a duplicate (nothing is sent to Visual Layer).
 */
export class IdempotencyStoreUnavailable extends GatewayError {
  constructor (options: { logDetail?: unknown } = {}) {
    super(
      'UPSTREAM_UNAVAILABLE',
      'The idempotency key could not be checked: the store of idempotency keys the gateway\'s replicas share is unavailable, ' +
        'so this request was refused rather than risk a second enrichment. Nothing was written and nothing was sent to Visual Layer; ' +
        'try again shortly with the same key.',
      options
    )
  }
}

interface Entry<T> {
  /** Digest of the arguments the key was first used with. */
  readonly request: string
  readonly result: Promise<T>
}

export interface IdempotencyOptions {
  windowMs: number
  /** Most records kept at once, all scopes together (the oldest go first). */
  max?: number
  /** The clock of the window (tests move it). */
  perf?: { now: () => number }
}

export class IdempotencyStore<T> implements IdempotencyRecords<T> {
  private readonly entries: LRUCache<string, Entry<T>>

  constructor (options: IdempotencyOptions) {
    this.entries = new LRUCache<string, Entry<T>>({
      max: options.max ?? 10_000,
      ttl: options.windowMs,
      // The window runs from the write, not from the last replay.
      updateAgeOnGet: false,
      // Exact expiry, with no timer behind a cached clock reading.
      ttlResolution: 0,
      ...(options.perf === undefined ? {} : { perf: options.perf })
    })
  }

  async claim (scope: string, key: string, args: string): Promise<Claim<T>> {
    const id = recordId(scope, key)
    const request = digest(args)
    const existing = this.entries.get(id)
    if (existing !== undefined) {
      return existing.request === request ? { kind: 'replay', result: existing.result } : { kind: 'mismatch' }
    }
    let resolve: (value: T) => void = () => {}
    let reject: (err: unknown) => void = () => {}
    const result = new Promise<T>((_resolve, _reject) => { resolve = _resolve; reject = _reject })
    // Nobody may be waiting on a failed attempt: its rejection is not an unhandled one.
    result.catch(() => {})
    const pending: Entry<T> = { request, result }
    this.entries.set(id, pending)
    return {
      kind: 'owner',
      succeed: async (value, alsoScopes = []) => {
        const done: Entry<T> = { request, result: Promise.resolve(value) }
        // The window starts now; in passthrough a token's scope may have changed during the call.
        for (const where of new Set([scope, ...alsoScopes])) this.entries.set(recordId(where, key), done)
        resolve(value)
      },
      fail: (err) => {
        if (this.entries.peek(id) === pending) this.entries.delete(id)
        reject(err)
      }
    }
  }
}

function recordId (scope: string, key: string): string {
  return `${scope}\u0000${digest(key)}`
}

/** Keys and arguments are kept as digests: memory per record stays small whatever the caller sends. */
export function digest (text: string): string {
  return createHash('sha256').update(text).digest('base64url')
}
