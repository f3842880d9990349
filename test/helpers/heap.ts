import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

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
