import { afterAll, beforeAll, expect, it } from 'vitest'
import { DEMO_ACCOUNTS, SEED } from '../../src/emulator/index.js'
import type { TestGateway } from '../helpers/gateway.js'
import { connectionParams, startModeGateway } from '../helpers/modes.js'
import { ManualTime } from '../helpers/manual-time.js'
import { countTurns, getsOf, stepUntil } from '../helpers/polls.js'
import { record, wsClient } from '../helpers/ws.js'

/*
 * The poll ceiling (MAX_POLLS_PER_SECOND) is shared between callers first: one account watching six
 * datasets gets no more of it than another watching one. Measured by polls, not time: while the
 * lone watcher's dataset is polled 6 more times, the six datasets together are polled about as often.
 * Time moves when the test says (ManualTime), from one timer to the next once every granted poll has ended.
 * The datasets are settled: adaptive polling is off here (POLL_MAX_INTERVAL_MS = POLL_INTERVAL_MS), so that
 * every poller keeps asking at the same rate and only the ceiling's sharing decides.
 */

let gw: TestGateway
const time = new ManualTime()
beforeAll(async () => { gw = await startModeGateway('passthrough', { MAX_POLLS_PER_SECOND: '4', POLL_INTERVAL_MS: '250', POLL_MAX_INTERVAL_MS: '250' }, { liveTime: time }) })
afterAll(async () => { await gw.close() })

const MANY = [SEED.datasets.ready, SEED.datasets.readySecond, SEED.datasets.enrichedSource, SEED.datasets.enriched, SEED.datasets.partialIndex, SEED.datasets.error]
const LONE = SEED.datasets.secondaryReady
const watch = (id: string): string => `subscription { datasetStatusChanged(datasetId: "${id}", follow: true) { id } }`

it('gives a caller watching one dataset as many polls as another watching six', async () => {
  const busy = wsClient(gw.url, connectionParams('passthrough', { account: DEMO_ACCOUNTS.primary }))
  const lone = wsClient(gw.url, connectionParams('passthrough', { account: DEMO_ACCOUNTS.secondary }))
  const turns = countTurns(gw)
  const subs = [...MANY.map((id) => record(busy, watch(id))), record(lone, watch(LONE))]
  // Four first polls at once (the bucket), the others as it refills.
  const firstEvents = { all: false }
  void Promise.all(subs.map(async (sub) => { await sub.received(1) })).then(() => { firstEvents.all = true })
  await stepUntil(gw, time, turns, () => firstEvents.all)

  const ofMany = (): number => MANY.reduce((sum, id) => sum + getsOf(gw, id), 0)
  const manyBefore = ofMany()
  const loneTarget = getsOf(gw, LONE) + 6
  await stepUntil(gw, time, turns, () => getsOf(gw, LONE) >= loneTarget)
  // Turn about between the two callers: 6 polls each, give or take the turn in flight at either end.
  // (One queue for all pollers would give the six datasets six polls for each of the lone one's.)
  expect(ofMany() - manyBefore).toBeGreaterThanOrEqual(4)
  expect(ofMany() - manyBefore).toBeLessThanOrEqual(8)
  turns.close()
  await Promise.all([busy.dispose(), lone.dispose()])
})
