/*
 * Calls held by a `hold` fault: each waits, after arriving (and being logged), until the test
 * releases its hold by name, then goes on as the rest of its fault says (or answers normally). A
 * test thereby decides when an upstream call answers, instead of guessing a delay long enough.
 * A held call whose client leaves is dropped at once, as a server never answers a closed socket.
 */

export interface Holds {
  /** Waits until `name` is released (resolves true) or `signal` aborts (resolves false: the client left, or the emulator is closing). */
  wait(name: string, signal: AbortSignal): Promise<boolean>
  /** Lets every call held under `name` go on; how many there were. */
  release(name: string): number
  /** Calls held under `name` now. */
  count(name: string): number
  /** Lets every held call go on (reset, faults cleared). */
  releaseAll(): void
  /** Tells `listener` each time a call starts or stops being held under a name; the function returned stops. */
  watch(listener: (name: string) => void): () => void
}

export function createHolds (): Holds {
  const waiting = new Map<string, Set<() => void>>()
  const listeners = new Set<(name: string) => void>()
  const tell = (name: string): void => { for (const listener of [...listeners]) listener(name) }
  const release = (name: string): number => {
    const calls = [...(waiting.get(name) ?? [])]
    waiting.delete(name)
    for (const go of calls) go()
    return calls.length
  }
  return {
    async wait (name, signal) {
      if (signal.aborted) return false
      return await new Promise<boolean>((resolve) => {
        const calls = waiting.get(name) ?? new Set()
        waiting.set(name, calls)
        const done = (released: boolean): void => {
          calls.delete(go)
          if (calls.size === 0 && waiting.get(name) === calls) waiting.delete(name)
          signal.removeEventListener('abort', onAbort)
          resolve(released)
          tell(name)
        }
        const go = (): void => { done(true) }
        const onAbort = (): void => { done(false) }
        calls.add(go)
        signal.addEventListener('abort', onAbort, { once: true })
        tell(name)
      })
    },
    release,
    count: (name) => waiting.get(name)?.size ?? 0,
    releaseAll () {
      for (const name of [...waiting.keys()]) release(name)
    },
    watch (listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    }
  }
}
