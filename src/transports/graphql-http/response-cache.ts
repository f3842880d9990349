import { LRUCache } from 'lru-cache'

/*
 * The answers of GraphQL queries over HTTP, kept for a short time (RESPONSE_CACHE_TTL_MS) in this
 * process: a dashboard polled by many clients of one credential scope costs one execution per TTL.
 * Each entry names what its execution read (the datasets its loaders loaded, and whether it read a
 * list of the whole account: the dataset list, an account-wide task page, the task filters), so that
 * a write through the gateway or a change a poller sees drops exactly the answers that read it.
 *
 * Bounded in bytes (least recently used first out); an answer larger than maxEntryBytes is never
 * kept, and never evicts others to make room. An entry past its TTL is answered by nobody and is
 * dropped when met or when evicted. The clock is injected: tests move it themselves.
 */

export interface CachedAnswer {
  readonly body: string
  readonly contentType: string
  /** The conditional GET's ETag of the body (computed once, when stored). */
  readonly etag: string
}

/** What an execution read, as far as invalidation cares. */
export interface AnswerReads {
  readonly datasetIds: ReadonlySet<string>
  /** A list of the whole account: any write or change of any dataset may change it. */
  readonly account: boolean
}

interface Entry extends CachedAnswer, AnswerReads {
  readonly expiresAt: number
  readonly bytes: number
}

export interface ResponseCacheOptions {
  readonly ttlMs: number
  readonly maxBytes: number
  readonly maxEntryBytes: number
  /** Milliseconds, monotonic: performance.now by default. */
  readonly now?: () => number
}

/** What a stored entry costs besides its strings (the entry, the LRU's node, the index's places), about. */
const ENTRY_OVERHEAD_BYTES = 400
const INDEX_PLACE_BYTES = 100

export class ResponseCache {
  private readonly entries: LRUCache<string, Entry>
  /** The keys of the entries that read each dataset. */
  private readonly byDataset = new Map<string, Set<string>>()
  /** The keys of the entries that read a list of the whole account. */
  private readonly account = new Set<string>()
  private readonly now: () => number
  /** Counts every drop: an execution that began before one may have read what it dropped, and is not kept. */
  private epoch = 0

  constructor (private readonly options: ResponseCacheOptions) {
    this.now = options.now ?? (() => performance.now())
    this.entries = new LRUCache<string, Entry>({
      maxSize: options.maxBytes,
      maxEntrySize: options.maxEntryBytes,
      sizeCalculation: (entry) => entry.bytes,
      // Evicted, replaced or deleted: out of the index too.
      dispose: (entry, key) => { this.unindex(key, entry) }
    })
  }

  /** Bytes the kept answers take, about (their keys, bodies and index places): at most maxBytes. */
  get bytes (): number {
    return this.entries.calculatedSize
  }

  get size (): number {
    return this.entries.size
  }

  /** The mark to hand `set` for an execution starting now. */
  get mark (): number {
    return this.epoch
  }

  /** The answer kept for `key`, unless its TTL has passed. */
  get (key: string): CachedAnswer | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt > this.now()) return entry
    this.entries.delete(key)
    return undefined
  }

  /** Keeps `answer` for the TTL, unless something was dropped since `mark` (or it is larger than allowed); whether it was kept. */
  set (key: string, answer: CachedAnswer, reads: AnswerReads, mark: number): boolean {
    if (mark !== this.epoch) return false
    let bytes = (key.length + answer.body.length + answer.contentType.length + answer.etag.length) * 2 + ENTRY_OVERHEAD_BYTES
    for (const id of reads.datasetIds) bytes += id.length * 2 + INDEX_PLACE_BYTES
    if (bytes > this.options.maxEntryBytes) return false
    const entry: Entry = { ...answer, datasetIds: reads.datasetIds, account: reads.account, expiresAt: this.now() + this.options.ttlMs, bytes }
    this.entries.set(key, entry)
    if (this.entries.get(key) !== entry) return false
    for (const id of entry.datasetIds) {
      let keys = this.byDataset.get(id)
      if (keys === undefined) this.byDataset.set(id, keys = new Set())
      keys.add(key)
    }
    if (entry.account) this.account.add(key)
    return true
  }

  /**
   * Drops every answer that read one of `datasetIds`, and every answer that read a list of the whole
   * account (a write or a change of any dataset may change those). How many were dropped.
   */
  drop (datasetIds: readonly string[]): number {
    if (datasetIds.length === 0) return 0
    this.epoch++
    const keys = new Set(this.account)
    for (const id of datasetIds) for (const key of this.byDataset.get(id) ?? []) keys.add(key)
    for (const key of keys) this.entries.delete(key)
    return keys.size
  }

  clear (): void {
    this.epoch++
    this.entries.clear()
  }

  private unindex (key: string, entry: Entry): void {
    for (const id of entry.datasetIds) {
      const keys = this.byDataset.get(id)
      if (keys === undefined) continue
      keys.delete(key)
      if (keys.size === 0) this.byDataset.delete(id)
    }
    if (entry.account) this.account.delete(key)
  }
}
