import type { RunningEmulator } from '../../src/emulator/index.js'
import type { TestGateway } from './gateway.js'

/*
 * What the pollers of a test cluster did: when each upstream GET of a dataset arrived (wall clock,
 * which the emulator's frozen clock does not give), how many dataset polls each replica made (its own
 * vlgw_live_polls_total), and how many poll leases it holds (vlgw_live_leases_held).
 */

export interface PollLog {
  /** performance.now() of each GET of the dataset, in arrival order. */
  readonly times: number[]
  close: () => void
}

/** Samples the emulator's call log every 2 ms from now on: a GET is timed within a few ms of its arrival. */
export function pollLog (emulator: RunningEmulator, datasetId: string): PollLog {
  const path = `/api/v1/dataset/${datasetId}`
  const times: number[] = []
  let seen = emulator.calls({ method: 'GET', path }).length
  const timer = setInterval(() => {
    const count = emulator.calls({ method: 'GET', path }).length
    for (; seen < count; seen++) times.push(performance.now())
  }, 2)
  return { times, close: () => { clearInterval(timer) } }
}

/** Dataset polls this replica has made so far. */
export async function datasetPollsBy (replica: TestGateway): Promise<number> {
  const { values } = await replica.app.metrics.polls.get()
  return values.filter((value) => value.labels.resource === 'dataset').reduce((sum, value) => sum + value.value, 0)
}

/** Poll leases this replica holds now. */
export async function leasesHeld (replica: TestGateway): Promise<number> {
  const gauge = replica.app.metrics.registry.getSingleMetric('vlgw_live_leases_held')
  if (gauge === undefined) throw new Error('no vlgw_live_leases_held gauge')
  return (await gauge.get()).values[0]?.value ?? 0
}

/** Each replica's dataset polls so far, in replica order. */
export async function pollsByReplica (replicas: readonly TestGateway[]): Promise<number[]> {
  return await Promise.all(replicas.map(datasetPollsBy))
}

/** The status subscription the live cluster tests follow. */
export const statusQuery = (id: string, follow = false): string =>
  `subscription { datasetStatusChanged(datasetId: "${id}", follow: ${String(follow)}) { id status progress } }`
export type StatusEvent = { datasetStatusChanged: { id: string, status: string, progress: number | null } }
