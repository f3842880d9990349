/*
 * The time live status waits on: the clock and timers of pollers, of the poll ceiling and of the
 * poll leases' heartbeat. The gateway uses the process's own (`realTime`); a test gives one it moves
 * itself (test/helpers/manual-time.ts), so an interval passes when the test says, however busy the
 * machine is.
 */
export interface LiveTime {
  /** Milliseconds on a monotonic clock. */
  now: () => number
  /** Runs `run` once, `ms` from now, unless the returned function cancels it first. `unref`: the timer alone keeps no process alive. */
  after: (ms: number, run: () => void, options?: { unref?: boolean }) => () => void
}

export const realTime: LiveTime = {
  now: () => performance.now(),
  after: (ms, run, { unref = false } = {}) => {
    const timer = setTimeout(run, ms)
    if (unref) timer.unref()
    return () => { clearTimeout(timer) }
  }
}
