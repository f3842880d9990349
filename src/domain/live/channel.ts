/*
 * A push-to-pull queue for one subscriber. Unlike an async generator, `return()` takes effect at
 * once even while a `next()` is waiting: a client that unsubscribes (or a socket that closes) is
 * let go immediately, not at the next event.
 */

export class Channel<T> implements AsyncIterableIterator<T> {
  private readonly queue: T[] = []
  private waiting: { resolve: (result: IteratorResult<T>) => void, reject: (err: unknown) => void } | null = null
  /** Set by end() or fail(): what comes after the queued values. */
  private ending: { error: unknown } | null = null
  private closed = false

  constructor (private readonly onClose: () => void, private readonly limit = 1000) {}

  get done (): boolean {
    return this.closed || this.ending !== null
  }

  push (value: T): void {
    if (this.done) return
    if (this.waiting !== null) {
      const { resolve } = this.waiting
      this.waiting = null
      resolve({ value, done: false })
    } else if (this.queue.length >= this.limit) {
      // A subscriber that stopped reading must not hold memory without bound.
      this.fail(new Error(`the subscriber fell more than ${this.limit} events behind`))
    } else {
      this.queue.push(value)
    }
  }

  /** Ends the stream normally, after the values already queued. */
  end (): void {
    this.finish({ error: undefined })
  }

  /** Ends the stream with an error, after the values already queued. */
  fail (error: unknown): void {
    this.finish({ error })
  }

  async next (): Promise<IteratorResult<T>> {
    if (this.queue.length > 0) return { value: this.queue.shift() as T, done: false }
    if (this.ending !== null && !this.closed) {
      this.close()
      if (this.ending.error !== undefined) throw this.ending.error
    }
    if (this.closed) return { value: undefined, done: true }
    return await new Promise((resolve, reject) => { this.waiting = { resolve, reject } })
  }

  async return (): Promise<IteratorResult<T>> {
    this.queue.length = 0
    this.close()
    return { value: undefined, done: true }
  }

  [Symbol.asyncIterator] (): AsyncIterableIterator<T> {
    return this
  }

  private finish (ending: { error: unknown }): void {
    if (this.done) return
    this.ending = ending
    // A waiting reader has an empty queue: it gets the ending now.
    if (this.waiting !== null) {
      const { resolve, reject } = this.waiting
      this.waiting = null
      this.close()
      if (ending.error !== undefined) reject(ending.error)
      else resolve({ value: undefined, done: true })
    }
  }

  private close (): void {
    if (this.closed) return
    this.closed = true
    if (this.waiting !== null) {
      const { resolve } = this.waiting
      this.waiting = null
      resolve({ value: undefined, done: true })
    }
    this.onClose()
  }
}
