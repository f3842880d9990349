/*
 * One upstream call at a time for each token Visual Layer has not accepted yet, keyed by its
 * fingerprint. The first call proves the token or gets it refused; until then a forged token
 * cannot make Visual Layer answer a burst of calls, however wide the operation, however many
 * requests, subscriptions or pollers use it at once. p-limit has no per-waiter cancel, which a
 * caller that goes away needs, hence these few lines.
 */

export class TokenGate {
  /** Tokens with a call in flight, and who waits behind it, oldest first. */
  private readonly lanes = new Map<string, Array<() => void>>()

  /** Waits for the token's turn; the returned function ends it. Rejects if `signal` aborts first. */
  async acquire (fingerprint: string, signal?: AbortSignal): Promise<() => void> {
    const waiting = this.lanes.get(fingerprint)
    if (waiting === undefined) {
      this.lanes.set(fingerprint, [])
      return this.releaser(fingerprint)
    }
    signal?.throwIfAborted()
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const index = waiting.indexOf(turn)
        if (index >= 0) waiting.splice(index, 1)
        reject(signal?.reason)
      }
      const turn = (): void => { signal?.removeEventListener('abort', onAbort); resolve() }
      waiting.push(turn)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
    return this.releaser(fingerprint)
  }

  /** Tokens with a call in flight (for tests and metrics). */
  get size (): number {
    return this.lanes.size
  }

  private releaser (fingerprint: string): () => void {
    let released = false
    return () => {
      if (released) return
      released = true
      const waiting = this.lanes.get(fingerprint)
      const next = waiting?.shift()
      if (next === undefined) this.lanes.delete(fingerprint)
      else next()
    }
  }
}
