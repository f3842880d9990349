import { z } from 'zod'

/*
 * The emulator's network latency: real time every `/api/v1` call waits before it is handled, so a
 * benchmark can put a fixed round trip between the gateway and its upstream (and change it between
 * runs through the control API) without holding a delay fault that fills the fault queue.
 */

export const latencyMsSchema = z.number().int().min(0).max(60_000)

export interface Latency {
  readonly ms: number
  set(ms: number): void
  /** Back to the value the emulator started with. */
  reset(): void
}

export function createLatency (initialMs: number): Latency {
  const initial = latencyMsSchema.parse(initialMs)
  let ms = initial
  return {
    get ms () { return ms },
    set (value) { ms = latencyMsSchema.parse(value) },
    reset () { ms = initial }
  }
}
