/*
 * Slots per caller: how many WebSocket connections or SSE streams each caller holds, against a
 * ceiling. One implementation for every door that holds long-lived connections, so that the limit
 * means the same thing on each (and moves to shared state in one place when replicas share it).
 */

export class CallerSlots {
  private readonly counts = new Map<string, number>()

  constructor (private readonly maxPerCaller: number) {}

  /** Takes one slot for the caller, or false when it holds its ceiling already. */
  take (callerKey: string): boolean {
    const count = this.counts.get(callerKey) ?? 0
    if (count >= this.maxPerCaller) return false
    this.counts.set(callerKey, count + 1)
    return true
  }

  release (callerKey: string): void {
    const count = (this.counts.get(callerKey) ?? 1) - 1
    if (count <= 0) this.counts.delete(callerKey)
    else this.counts.set(callerKey, count)
  }
}
