import { SEED } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from './gateway.js'
import { record, until, wsClient } from './ws.js'

/**
 * Waiting for polls instead of for time: a poller's upstream GETs are the events that prove it
 * ran, and another poller at the same interval (a clock) measures intervals as pollers live them,
 * so a loaded machine stretches the measure and the measured alike.
 */

/** Upstream GETs of one dataset so far: how many times its pollers polled it. */
export const getsOf = (gw: TestGateway, id: string): number =>
  gw.emulator.calls().filter((c) => c.method === 'GET' && c.path === `/api/v1/dataset/${id}`).length

/** Resolves once `count()` has grown by `n` from now. */
export async function grows (count: () => number, n: number, timeoutMs?: number): Promise<void> {
  const target = count() + n
  await until(() => count() >= target, timeoutMs, 5)
}

export interface PollClock {
  /** How many times the clock has polled so far. */
  polls: () => number
  /** Resolves once the clock has polled `n` more times: at least n - 1 intervals passed. */
  ticks: (n: number) => Promise<void>
  close: () => Promise<void>
}

/**
 * A clock in a gateway of its own (so the tested gateway's call log stays exact): one subscriber
 * keeps a settled dataset polled at `intervalMs`.
 */
export async function startPollClock (intervalMs: number): Promise<PollClock> {
  const gw = await startTestGateway({ POLL_INTERVAL_MS: String(intervalMs) })
  const client = wsClient(gw.url)
  const id = SEED.datasets.readySecond
  const ticking = record(client, `subscription { datasetStatusChanged(datasetId: "${id}", follow: true) { id } }`)
  try {
    await until(() => ticking.events.length === 1)
  } catch (err) {
    await client.dispose()
    await gw.close()
    throw err
  }
  const polls = (): number => getsOf(gw, id)
  return {
    polls,
    ticks: async (n) => { await grows(polls, n) },
    close: async () => {
      await client.dispose()
      await gw.close()
    }
  }
}
