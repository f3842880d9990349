import type { LiveTime } from '../../src/domain/live/time.js'

interface Timer {
  readonly at: number
  readonly order: number
  readonly run: () => void
}

/**
 * Time that moves only when the test moves it (BuildOptions.liveTime): a poller's interval, its
 * back-off, the poll ceiling's refill. `advance` runs every timer that falls due, in order, each at
 * its own time; a timer set meanwhile (a poll's answer comes later, over real HTTP) counts from the
 * time it is set.
 */
export class ManualTime implements LiveTime {
  private current = 0
  private order = 0
  private readonly timers = new Set<Timer>()

  readonly now = (): number => this.current

  readonly after = (ms: number, run: () => void): (() => void) => {
    const timer: Timer = { at: this.current + Math.max(0, ms), order: this.order++, run }
    this.timers.add(timer)
    return () => { this.timers.delete(timer) }
  }

  /** Timers set and not yet run or cancelled. */
  get pending (): number {
    return this.timers.size
  }

  /** Milliseconds until the next timer falls due, or null when none is set. */
  get nextInMs (): number | null {
    const next = this.earliest()
    return next === null ? null : next.at - this.current
  }

  /** Moves time `ms` forward, running each timer that falls due on the way; how many ran. */
  advance (ms: number): number {
    const target = this.current + ms
    let ran = 0
    for (let next = this.earliest(); next !== null && next.at <= target; next = this.earliest()) {
      this.timers.delete(next)
      this.current = next.at
      next.run()
      ran++
    }
    this.current = target
    return ran
  }

  /** Moves time to the next timer and runs it (and any due with it); how far time moved. Throws when no timer is set. */
  runNext (): number {
    const next = this.earliest()
    if (next === null) throw new Error('no timer is set: nothing waits on this time')
    const by = next.at - this.current
    this.advance(by)
    return by
  }

  private earliest (): Timer | null {
    let best: Timer | null = null
    for (const timer of this.timers) if (best === null || timer.at < best.at || (timer.at === best.at && timer.order < best.order)) best = timer
    return best
  }
}
