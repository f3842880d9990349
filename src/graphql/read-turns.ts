/*
 * Turns for reading documents the gateway has not read before. Parsing and validating a new document
 * holds the event loop for up to a few milliseconds (a refusal of 100 unknown fields about 1.5 ms), and
 * such reads arrive in bursts that run back to back: ten requests pipelined in one TCP segment, a hundred
 * subscribe messages in one WebSocket read, a caller's several sockets at once. Every other request,
 * however cheap, would wait for the whole burst. Here each such read waits for a turn: one read per turn
 * of the event loop (between two turns the loop takes in I/O, so a concurrent request waits for one read,
 * never for a burst), callers served in turn, so that a caller with many reads waits for its own.
 * A document already read (the document cache) takes no turn.
 *
 * Each caller may have `maxWaiting` reads waiting: beyond that its reads are refused at once, so the
 * queue is bounded whatever a caller sends (each waiting read holds its text, which its door bounds).
 */

export type Schedule = (run: () => void) => void

/** Reads a caller may have waiting for a turn; the WebSocket door lets a socket start 100 operations at once. */
export const DEFAULT_MAX_WAITING = 256

export class ReadTurns {
  /** Waiting reads of each caller; the map's order is the order callers are served in. */
  private readonly waiting = new Map<string, Array<() => void>>()
  private scheduled = false
  private readonly schedule: Schedule

  constructor (readonly maxWaiting = DEFAULT_MAX_WAITING, schedule?: Schedule) {
    this.schedule = schedule ?? ((run) => { setImmediate(run) })
  }

  /**
   * Resolves when it is `caller`'s turn to read: the read runs synchronously right after, before the next
   * turn is given. False, at once, when `caller` already has `maxWaiting` reads waiting.
   */
  async take (caller: string): Promise<boolean> {
    const queue = this.waiting.get(caller) ?? []
    if (queue.length >= this.maxWaiting) return false
    const turn = new Promise<boolean>((resolve) => { queue.push(() => { resolve(true) }) })
    this.waiting.set(caller, queue)
    this.next()
    return await turn
  }

  /** Reads waiting, over all callers. */
  get size (): number {
    let size = 0
    for (const queue of this.waiting.values()) size += queue.length
    return size
  }

  private next (): void {
    if (this.scheduled || this.waiting.size === 0) return
    this.scheduled = true
    this.schedule(() => {
      this.scheduled = false
      const first = this.waiting.entries().next()
      if (first.done === true) return
      const [caller, queue] = first.value
      const give = queue.shift()
      // The caller goes to the back of the line, behind every other caller with a read waiting.
      this.waiting.delete(caller)
      if (queue.length > 0) this.waiting.set(caller, queue)
      give?.()
      this.next()
    })
  }
}
