/*
 * How many requests one GraphQL operation may still send to Visual Layer: a run-time backstop to the
 * static limits on documents (depth, fields), which cannot know how many ids a list holds or how
 * many aliases reach distinct upstream reads. Every request actually sent is taken from it, retries
 * included (each one costs Visual Layer as much as the first); a read shared with another request
 * in flight, or answered from a cache, sends nothing and takes nothing.
 */

export class CallBudget {
  private spent = 0
  private sent = 0

  constructor (readonly max: number) {}

  /** Requests sent so far (since the last renewal): the cost the operation actually incurred (reported on request, and logged). */
  get used (): number {
    return this.spent
  }

  /** Requests sent in all, renewals included (every event of a subscription): the count in the operation's log line. */
  get total (): number {
    return this.sent
  }

  get exhausted (): boolean {
    return this.spent >= this.max
  }

  /** Counts one call sent. */
  take (): void {
    this.spent++
    this.sent++
  }

  /** A new allowance for a new unit of work (each event of a subscription resolves afresh). */
  renew (): void {
    this.spent = 0
  }
}
