import { afterAll, beforeAll, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { allPollersStopped } from '../helpers/polls.js'
import { nextCall } from '../helpers/wait.js'

/*
 * A REST event stream awaits its first event before it writes anything (so that a dataset one may not
 * see is still a 404). A client that leaves meanwhile (Visual Layer slow to answer the first poll) must
 * end its watch then: before, the close was listened for only once the first event was written, so the
 * stream's subscription, and its poller, lived on; with follow=true, for ever.
 */

let gw: TestGateway
// A poll under way is not cut short when its last subscriber leaves: it ends by its deadline, kept short here.
beforeAll(async () => { gw = await startTestGateway({ UPSTREAM_TIMEOUT_MS: '300' }) })
afterAll(async () => { await gw.close() })

it('ends the watch, and its poller, of a client that leaves before the first event', async () => {
  // The dataset's first read is held past its deadline: the poller would then poll again for a watch
  // nobody reads (the next read answers at once), unless the client's leaving ended the watch.
  gw.emulator.injectFault({ method: 'GET', path: `/api/v1/dataset/${SEED.datasets.ready}`, hold: 'first-read' })
  const arrived = nextCall(gw.emulator, { method: 'GET', path: `/api/v1/dataset/${SEED.datasets.ready}`, phase: 'arrived' })
  const leaving = new AbortController()
  const stream = fetch(`${gw.url}/v1/datasets/${SEED.datasets.ready}/events?follow=true`, { signal: leaving.signal })
  stream.catch(() => {})
  // The watch started: its poller asked Visual Layer, which holds the answer.
  await arrived
  expect(gw.app.live.size).toBe(1)

  leaving.abort()
  // The poller stops once its poll under way has timed out, and polls no more.
  await allPollersStopped(gw, 5_000)
  expect(gw.emulator.calls().map((call) => `${call.method} ${call.path}`)).toEqual([`GET /api/v1/dataset/${SEED.datasets.ready}`])
})
