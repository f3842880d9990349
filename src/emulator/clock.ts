/**
 * The emulator's clock. Everything time-dependent (task progress, dataset status, JWT expiry,
 * call-log times) reads it, so tests can freeze time and move it by hand instead of sleeping.
 */
export interface Clock {
  now(): number
  /** Moves the clock forward by `ms` (>= 0). */
  advance(ms: number): void
  /** Moves the clock to `ms`; refuses to go backwards, because derived state would rewind. */
  set(ms: number): void
  /** Back to the start: the wall clock again, or the frozen start time. */
  reset(): void
}

export type ClockStart = 'real' | Date | number

export function createClock (start: ClockStart = 'real'): Clock {
  const frozenAt = start === 'real' ? null : start instanceof Date ? start.getTime() : start
  if (frozenAt !== null && !Number.isFinite(frozenAt)) {
    throw new RangeError('clock must be "real", a valid Date or a finite number of milliseconds')
  }
  // A real clock keeps an offset from the wall clock; a frozen one only moves by advance/set.
  let offset = 0
  const now = (): number => (frozenAt ?? Date.now()) + offset

  return {
    now,
    advance (ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError('advance(ms) needs a finite number >= 0')
      offset += ms
    },
    set (ms) {
      if (!Number.isFinite(ms)) throw new RangeError('set(ms) needs a finite number')
      const current = now()
      if (ms < current) throw new RangeError('the emulator clock never moves backwards')
      offset += ms - current
    },
    reset () {
      offset = 0
    }
  }
}
