import type { FastifyInstance } from 'fastify'
import { DEMO_ACCOUNTS } from './accounts.js'
import { buildEmulatorApp } from './app.js'
import { createAuthenticator } from './auth.js'
import type { CallListener, CallRecord } from './call-log.js'
import { createCallLog } from './call-log.js'
import { createClock } from './clock.js'
import type { FaultSpec } from './faults.js'
import { createFaultBox } from './faults.js'
import { createHolds } from './holds.js'
import { createLatency } from './latency.js'
import { createSeedState } from './seed.js'

export { DEMO_ACCOUNTS } from './accounts.js'
export type { DemoAccount } from './accounts.js'
export type { CallListener, CallRecord } from './call-log.js'
export type { FaultSpec } from './faults.js'
export { extraDatasetId, SEED } from './seed.js'
export { ENRICHMENT_MODELS } from './models.js'

export interface EmulatorOptions {
  /**
   * Start time of the emulator's clock. 'real': follows the wall clock (standalone use). A Date or
   * ms number: a frozen clock that only moves when told (tests). Default 'real'.
   */
  clock?: 'real' | Date | number
  /** pino logger options or false (default false). */
  logger?: boolean | object
  /**
   * Real time every `/api/v1` call waits before it is handled, as over a network (default 0). Unlike a
   * delay fault it is not consumed and leaves the fault queue free. reset() returns to this value.
   */
  latencyMs?: number
  /** Keep every request header in the call log (`CallRecord.headers`), to check what a client forwards. Default false. */
  recordHeaders?: boolean
  /** READY datasets of the primary account added to the seed (ids: `extraDatasetId(i)`), for benchmarks. Default 0. */
  extraDatasets?: number
}

export interface Emulator {
  /** Fastify instance (not listening). */
  readonly app: FastifyInstance
  /** The emulator clock, in ms. */
  now(): number
  /** Moves the clock forward. */
  advance(ms: number): void
  /** Back to the seed (and the clock back to its start); call log and faults cleared. */
  reset(): void
  calls(filter?: { method?: string; path?: string }): CallRecord[]
  clearCalls(): void
  /** Tells `listener` of every `/api/v1` call as it arrives and as it is answered; the function returned stops. */
  onCall(listener: CallListener): () => void
  injectFault(fault: FaultSpec): void
  /** Clears the armed faults, and lets every held call go on. */
  clearFaults(): void
  /** Lets every call held under `name` (a `hold` fault) go on; how many there were. */
  release(name: string): number
  /** Calls held under `name` now. */
  held(name: string): number
  /** Tells `listener` (with the hold's name) each time a call starts or stops being held; the function returned stops. */
  onHold(listener: (name: string) => void): () => void
  /** The latency of every `/api/v1` call, in ms (see EmulatorOptions.latencyMs). */
  latencyMs(): number
  setLatency(ms: number): void
}

export interface RunningEmulator extends Emulator {
  /** http://127.0.0.1:PORT */
  readonly url: string
  close(): Promise<void>
}

export function buildEmulator (options: EmulatorOptions = {}): Emulator {
  const clock = createClock(options.clock ?? 'real')
  // The seed is laid out relative to the clock's start, so a frozen clock gives the same world every run.
  let state = createSeedState(clock.now(), options.extraDatasets ?? 0)
  const calls = createCallLog()
  const faults = createFaultBox()
  const holds = createHolds()
  const latency = createLatency(options.latencyMs ?? 0)
  const reset = (): void => {
    clock.reset()
    state = createSeedState(clock.now(), options.extraDatasets ?? 0)
    calls.clear()
    faults.clear()
    holds.releaseAll()
    latency.reset()
  }
  const app = buildEmulatorApp(
    {
      clock,
      state: () => state,
      authenticate: createAuthenticator(Object.values(DEMO_ACCOUNTS), clock.now),
      calls,
      faults,
      holds,
      latency,
      reset,
      recordHeaders: options.recordHeaders === true
    },
    options.logger ?? false
  )
  return {
    app,
    now: () => clock.now(),
    advance: (ms) => { clock.advance(ms) },
    reset,
    calls: (filter) => calls.list(filter),
    clearCalls: () => { calls.clear() },
    onCall: (listener) => calls.watch(listener),
    injectFault: (fault) => { faults.inject(fault) },
    clearFaults: () => {
      faults.clear()
      holds.releaseAll()
    },
    release: (name) => holds.release(name),
    held: (name) => holds.count(name),
    onHold: (listener) => holds.watch(listener),
    latencyMs: () => latency.ms,
    setLatency: (ms) => { latency.set(ms) }
  }
}

export async function startEmulator (options: EmulatorOptions & { host?: string; port?: number } = {}): Promise<RunningEmulator> {
  const emulator = buildEmulator(options)
  const host = options.host ?? '127.0.0.1'
  await emulator.app.listen({ host, port: options.port ?? 0 })
  const address = emulator.app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : options.port ?? 0
  const urlHost = host.includes(':') ? `[${host}]` : host
  return {
    ...emulator,
    url: `http://${urlHost}:${port}`,
    close: async () => { await emulator.app.close() }
  }
}
