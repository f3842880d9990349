/*
 * Turns a stream of snapshots into a stream of events, step by step: a step may emit several
 * events and may end the stream. `return()` reaches the source at once (see Channel).
 */

export type Step<S, E> = (snapshot: S) => { events: E[], done: boolean }

export function eventsFrom<S, E> (source: AsyncIterator<S>, step: Step<S, E>): AsyncIterableIterator<E> {
  const pending: E[] = []
  let finished = false
  const iterator: AsyncIterableIterator<E> = {
    async next (): Promise<IteratorResult<E>> {
      while (pending.length === 0) {
        if (finished) {
          await source.return?.()
          return { value: undefined, done: true }
        }
        const next = await source.next()
        if (next.done === true) return { value: undefined, done: true }
        const { events, done } = step(next.value)
        pending.push(...events)
        finished = done
      }
      return { value: pending.shift() as E, done: false }
    },
    async return (): Promise<IteratorResult<E>> {
      finished = true
      pending.length = 0
      await source.return?.()
      return { value: undefined, done: true }
    },
    [Symbol.asyncIterator] () { return iterator }
  }
  return iterator
}
