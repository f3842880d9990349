import { createHash } from 'node:crypto'
import type { RunShare, RunSharing } from '../domain/live/cluster-sharing.js'

/*
 * A live query's executions shared over the cluster (src/graphql/live-queries.ts): when a poll brings
 * a change, every replica with subscribers of the query hears it; one claims it (RunSharing, on Redis),
 * executes the query again and publishes the result with the resources it read; the others send that
 * result to their own subscribers instead of executing. An execution is named by the values of every
 * resource it watches, as the pollers brought them (each named by the resource and its value, alike on
 * every replica), and starts from them: replicas that hold the same values claim the same name and would
 * make the same result. A replica that has heard a change another has not yet names another execution,
 * and executes it itself (its result then shows what it heard; the other replica's next execution, once
 * it hears the change too, shows it as well). Naming by the change alone would let a replica take the
 * result of an execution that started from an older value of another resource than it holds, and keep it.
 * A replica also executes itself when the claim's winner published no usable outcome (its result had
 * errors, which only the replica that made them can format; it read other resources than this replica
 * watches) or none within RUN_WAIT_MS (an outcome published before it asked is kept with the claim, so the
 * wait is for one still being made), when a resource it watches has not been polled yet, and when a
 * write through the gateway set it off (each replica hears that in its own time, with no common name).
 */

/** How long a replica waits for the outcome of an execution another replica claimed, before executing itself. */
export const RUN_WAIT_MS = 10_000

/** Outcomes kept per execution, heard before this replica asked (the claim's answer may come after the outcome). */
const KEPT = 16

/** The outcome that says: execute yourself. */
const NONE = '-'

function digest (text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 24)
}

/** The name of resource `name` polled at `value`: alike on every replica that heard it. */
export function changeOf (name: string, value: unknown): string {
  return digest(`${name}\n${JSON.stringify(value, (_key, item: unknown) => item instanceof Map ? { $map: [...item] } : item)}`)
}

/** What one execution again came to, as published: the resources it read, and its result's text. */
export interface RunOutcome {
  readonly resources: readonly string[]
  readonly text: string
}

export class SharedRuns {
  private share: RunShare | null = null
  private shareKey = ''
  private readonly outcomes = new Map<string, string>()
  private readonly waiting = new Map<string, (outcome: string | null) => void>()

  constructor (private readonly runs: RunSharing | null) {}

  /** The name of an execution that starts from these values (changeOf each), or null when executions are not shared (no cluster). */
  nameOf (states: readonly string[] | null): string | null {
    if (this.runs === null || states === null || states.length === 0) return null
    return states.length === 1 ? states[0] ?? null : digest([...states].sort().join(' '))
  }

  /** Whether this replica runs `change` for the execution `key`. */
  async claim (key: string, change: string): Promise<boolean> {
    return await this.joined(key)?.claim(change) ?? true
  }

  publish (key: string, change: string, outcome: RunOutcome | null): void {
    this.joined(key)?.publish(change, outcome === null ? NONE : `${outcome.resources.join(',')}\n${outcome.text}`)
  }

  /**
   * The outcome of `change` another replica published: heard, or kept by the cluster (published before this
   * replica asked), or waited for at most RUN_WAIT_MS; null: execute yourself.
   */
  async outcome (change: string): Promise<RunOutcome | null> {
    const heard = this.outcomes.get(change) ?? await new Promise<string | null>((resolve) => {
      let settled = false
      const timer = setTimeout(() => { done(null) }, RUN_WAIT_MS)
      timer.unref()
      const done = (outcome: string | null): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        if (this.waiting.get(change) === done) this.waiting.delete(change)
        resolve(outcome)
      }
      this.waiting.set(change, done)
      // Asked after listening: an outcome published meanwhile is heard, one published before is kept.
      void this.share?.kept(change).then((kept) => { if (kept !== null) done(kept) })
    })
    if (heard === null || heard === NONE) return null
    const end = heard.indexOf('\n')
    if (end < 0) return null
    return { resources: heard.slice(0, end).split(',').filter((name) => name !== ''), text: heard.slice(end + 1) }
  }

  /** No more runs (the execution stopped): whoever waits executes nothing. */
  leave (): void {
    this.share?.leave()
    this.share = null
    for (const done of [...this.waiting.values()]) done(null)
  }

  /** Hears the outcomes of `key` from now on (done when the execution starts, before any change: an outcome may come before the claim's answer). */
  joined (key: string): RunShare | null {
    if (this.runs === null) return null
    if (this.share !== null && this.shareKey === key) return this.share
    this.share?.leave()
    this.shareKey = key
    this.share = this.runs.join(key, (change, outcome) => { this.heard(change, outcome) })
    return this.share
  }

  private heard (change: string, outcome: string): void {
    this.outcomes.set(change, outcome)
    if (this.outcomes.size > KEPT) this.outcomes.delete(this.outcomes.keys().next().value ?? '')
    this.waiting.get(change)?.(outcome)
  }
}
