import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { expect } from 'vitest'

/*
 * The heap a set of objects holds, for the tests that hold a cache's estimate of its bytes against
 * what it really keeps. Run from files of their own process (vitest.config.ts, OWN_PROCESS): in a
 * process shared with other files, what those left behind (bytecode V8 flushes after some collections
 * unused, garbage of their own) is freed during a measure and hides what the measure made.
 */

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** The heap used once full collections free nothing more (at most 10 of them). */
export function settledHeap (): number {
  let used = Number.POSITIVE_INFINITY
  for (let i = 0; i < 10; i++) {
    gc()
    const now = process.memoryUsage().heapUsed
    if (used - now < 16 * 1024) return now
    used = now
  }
  return used
}

/**
 * For each kind of text, a cache's estimate of what it keeps over the heap that keeping holds, to the
 * hundredth: `hold` makes what the cache keeps of `count(kind)` texts and gives the estimate. All made
 * is kept until the end, so that no collection of one kind's garbage lands in another's figure.
 */
export async function estimateOverHeap (
  kinds: Record<string, (i: number) => string>,
  count: (kind: string) => number,
  hold: (texts: string[]) => Promise<{ held: unknown, estimate: number }> | { held: unknown, estimate: number }
): Promise<Record<string, number>> {
  const kept: unknown[] = []
  const ratios: Record<string, number> = {}
  for (const [name, make] of Object.entries(kinds)) {
    const texts = Array.from({ length: count(name) }, (_, i) => make(i))
    const before = settledHeap()
    const { held, estimate } = await hold(texts)
    const heap = settledHeap() - before
    kept.push(texts, held)
    ratios[name] = Math.round(estimate / heap * 100) / 100
  }
  expect(kept).toHaveLength(2 * Object.keys(kinds).length)
  return ratios
}

/** Each ratio from `low` to `high`, the failure naming the kind and giving all the ratios. */
export function expectWithin (ratios: Record<string, number>, low: number, high: number): void {
  for (const [name, ratio] of Object.entries(ratios)) {
    expect(ratio, `${name}: estimate / heap ${ratio} (${JSON.stringify(ratios)})`).toBeGreaterThanOrEqual(low)
    expect(ratio, `${name}: estimate / heap ${ratio} (${JSON.stringify(ratios)})`).toBeLessThanOrEqual(high)
  }
}
