/*
 * Turns a stream of snapshots into a stream of events, step by step: a step may emit several
 * events and may end the stream. `return()` reaches the source at once (see Channel).
 */

export type Step<S, E> = (snapshot: S) => { events: E[], done: boolean }

export function eventsFrom<S, E> (source: AsyncIterator<S>, step: Step<S, E>): AsyncIterableIterator<E> {
  return new Events(source, step)
}

/** A class, not an async function: a quiet subscription holds one pending reaction, not a suspended frame. */
class Events<S, E> implements AsyncIterableIterator<E> {
  /** Events of the last snapshot not read yet (made only when a snapshot gives more than one). */
  private pending: E[] | null = null
  private finished = false

  constructor (private readonly source: AsyncIterator<S>, private readonly step: Step<S, E>) {}

  next (): Promise<IteratorResult<E>> {
    if (this.pending !== null && this.pending.length > 0) return Promise.resolve({ value: this.pending.shift() as E, done: false })
    if (this.finished) return this.end()
    return this.source.next().then((next): IteratorResult<E> | Promise<IteratorResult<E>> => {
      if (next.done === true) return { value: undefined, done: true }
      const { events, done } = this.step(next.value)
      this.finished = done
      if (events.length === 0) return this.next()
      if (events.length > 1) this.pending = events.slice(1)
      return { value: events[0] as E, done: false }
    })
  }

  async return (): Promise<IteratorResult<E>> {
    this.finished = true
    this.pending = null
    return await this.end()
  }

  [Symbol.asyncIterator] (): AsyncIterableIterator<E> {
    return this
  }

  private async end (): Promise<IteratorResult<E>> {
    await this.source.return?.()
    return { value: undefined, done: true }
  }
}
