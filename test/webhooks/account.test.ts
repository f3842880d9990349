import { setImmediate } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import type { PollRoundMessage } from '../../src/domain/live/events.js'
import { ACCOUNT } from '../../src/domain/live/registry.js'
import type { AttemptMessage } from '../../src/domain/webhooks/service.js'
import { DEMO_ACCOUNTS, SEED } from '../../src/emulator/index.js'
import type { TestGateway } from '../helpers/gateway.js'
import { ManualTime } from '../helpers/manual-time.js'
import { freshToken, startModeGateway, type AuthMode } from '../helpers/modes.js'
import { countTurns, pollsSettled } from '../helpers/polls.js'
import { visualLayerToken } from '../helpers/tokens.js'
import { nextEvent, onChannel } from '../helpers/wait.js'
import { Receiver, type Received } from '../helpers/webhook-receiver.js'

/**
 * A webhook with no dataset filter: every dataset of the account, followed through the account's
 * dataset list and task list (one poller each), never dataset by dataset. A dataset created after the
 * registration, outside the gateway (an enrichment asked of Visual Layer directly), is found in the
 * list and its events delivered from its first status, signed, each once, in order; the datasets
 * already in motion at registration deliver theirs too. The emulator's clock and the pollers'
 * (ManualTime) are moved by the test.
 */

const INTERVAL = 250
const SOURCE = SEED.datasets.ready
const INDEXING = SEED.datasets.indexing
const rounds = onChannel<PollRoundMessage>('visual-layer:live:round')
const attempts = onChannel<AttemptMessage>('visual-layer:webhooks:attempt')

const open: Array<{ close: () => Promise<void> }> = []
afterEach(async () => { await Promise.all(open.splice(0).map(async (thing) => { await thing.close() })) })

describe.each(['none', 'jwt'] as AuthMode[])('a webhook on every dataset of the account (AUTH_MODE=%s)', (mode) => {
  it('delivers the events of a dataset created after it was registered, from the account\'s lists alone', async () => {
    const liveTime = new ManualTime()
    const gw: TestGateway = await startModeGateway(mode, { POLL_INTERVAL_MS: String(INTERVAL), WEBHOOKS_ALLOW_PRIVATE_TARGETS: '127.0.0.1' }, {
      liveTime,
      webhooks: { time: new ManualTime() }
    })
    open.push(gw)
    const receiver = await Receiver.start()
    open.push(receiver)
    const webhooks = gw.app.webhooks
    if (webhooks === null) throw new Error('unreachable: webhooks run in this mode')
    const token = freshToken(mode)
    const polls = { list: 0, tasks: 0 }
    const stopCounting = rounds((m) => {
      if (m.registry !== gw.app.live || m.outcome === 'followed') return
      if (m.key.startsWith('datasets ')) polls.list++
      if (m.key.startsWith('account-tasks ')) polls.tasks++
    })
    open.push({ close: async () => { stopCounting() } })

    // The account's two pollers take their baseline before anything changes.
    const baseline = new Set<string>()
    const polled = nextEvent('the baseline polls of the account\'s lists', rounds, (m) => {
      if (m.registry === gw.app.live && m.datasetId === ACCOUNT) baseline.add(m.key)
      return baseline.size === 2
    })
    const res = await fetch(`${gw.url}/v1/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
      body: JSON.stringify({
        url: receiver.url,
        events: ['dataset.status_changed', 'dataset.ready', 'dataset.error', 'enrichment.completed', 'task.updated', 'task.failed', 'task.completed']
      })
    })
    const created = await res.json() as { datasetIds: unknown, secret: string }
    expect([res.status, created.datasetIds]).toEqual([201, null])
    receiver.secrets.push(created.secret)
    await polled
    // One poller of each list, in the service account's scope, for the whole account.
    expect([...baseline].sort()).toEqual([`account-tasks service ${ACCOUNT}`, `datasets service ${ACCOUNT}`])
    expect([webhooks.following, webhooks.followingAccount, gw.app.live.size]).toEqual([0, true, 2])
    expect(receiver.received).toEqual([])

    // A copy made by Visual Layer itself, not through the gateway: nothing tells the gateway but the list.
    const enriched = await fetch(`${gw.emulator.url}/api/v1/dataset/${SOURCE}/enrich_dataset`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${visualLayerToken(DEMO_ACCOUNTS.primary, {}, gw.emulator.now())}` },
      body: JSON.stringify({ enrichment_models: { CAPTION_IMAGES: 'vl_image_captioner_v00' } })
    })
    expect(enriched.status).toBe(200)
    const copy = (await enriched.json() as { dataset_id: string }).dataset_id

    const deliveriesSettled = async (): Promise<void> => {
      await setImmediate()
      while ((await webhooks.backlog()).pending > 0 || webhooks.running > 0) {
        await nextEvent('an attempt', attempts, (m) => m.service === webhooks)
      }
    }
    const completed = (): boolean => receiver.received.some((got) => got.event.type === 'enrichment.completed')
    const turns = countTurns(gw)
    const step = async (): Promise<void> => {
      gw.emulator.advance(2_500)
      const granted = gw.app.live.turnsGranted
      liveTime.advance(INTERVAL * 4)
      await pollsSettled(gw, turns, granted - turns.count)
      await deliveriesSettled()
    }
    for (let i = 0; i < 60 && !completed(); i++) await step()
    expect(completed()).toBe(true)
    // Later polls of the settled lists send nothing more.
    const delivered = receiver.received.length
    for (let i = 0; i < 3; i++) await step()
    turns.close()
    expect(receiver.received.length).toBe(delivered)

    const events = receiver.received.map((got) => got.event)
    expect(receiver.received.filter((got) => got.verifiedBy.length !== 1 || got.headers['webhook-id'] !== got.event.id)).toEqual([])
    expect(new Set(events.map((event) => event.id)).size).toBe(events.length)
    const of = (id: string): Array<Received['event']> => events.filter((event) => event.data.dataset?.id === id)
    const statuses = (id: string): unknown[] => of(id).map((event) => [event.type, event.data.previousStatus, event.data.status])

    // The copy, created after the registration: from its first status (previousStatus null) to READY.
    const copyEvents = of(copy)
    expect(copyEvents.map((event) => [event.type, event.data.previousStatus, event.data.status])).toEqual([
      ['dataset.status_changed', null, 'DRAFT'],
      ['dataset.status_changed', 'DRAFT', 'INDEXING'],
      ['dataset.status_changed', 'INDEXING', 'READY'],
      ['dataset.ready', undefined, undefined],
      ['enrichment.completed', undefined, undefined]
    ])
    expect(copyEvents.at(-1)?.data).toMatchObject({ sourceDatasetId: SOURCE, dataset: { id: copy, status: 'READY', sourceDatasetId: SOURCE, isReady: true } })
    // The source, and a dataset that was indexing at registration: every dataset of the account.
    expect(statuses(SOURCE)).toEqual([
      ['dataset.status_changed', 'READY', 'READ_ONLY'],
      ['dataset.status_changed', 'READ_ONLY', 'READY'],
      ['dataset.ready', undefined, undefined]
    ])
    expect(statuses(INDEXING)).toEqual([
      ['dataset.status_changed', 'INDEXING', 'READY'],
      ['dataset.ready', undefined, undefined]
    ])
    // The enrichment task, from the account's task list: its updates in order, then task.completed.
    const taskEvents = events.filter((event) => event.data.task?.type === 'ENRICHMENT' && event.data.task?.datasetId === SOURCE)
    const taskStatuses = taskEvents.map((event) => `${event.type} ${event.data.task.status as string}`)
    expect(new Set(taskEvents.map((event) => event.data.task.id)).size).toBe(1)
    expect(taskStatuses[0]).toBe('task.updated INITIALIZING')
    expect(taskStatuses.slice(1, -2).every((status) => status === 'task.updated RUNNING')).toBe(true)
    expect(taskStatuses.slice(-2)).toEqual(['task.updated COMPLETED', 'task.completed COMPLETED'])
    // Upstream: the account's lists alone, one call a poll; no dataset read one by one, no task list of one dataset.
    const gets = gw.emulator.calls({ method: 'GET' })
    expect(gets.filter((c) => c.path.startsWith('/api/v1/dataset/'))).toEqual([])
    expect(gets.filter((c) => c.path === '/api/v1/datasets').length).toBe(polls.list)
    const taskCalls = gets.filter((c) => c.path === '/api/v1/tasks')
    expect(taskCalls.length).toBe(polls.tasks)
    expect(taskCalls.filter((c) => c.query.dataset_id !== undefined)).toEqual([])
    expect(gets.length).toBe(polls.list + polls.tasks)
    // Each of those list calls read every dataset of the account: the 10 seeded (the hidden one left out) and the copy.
    const listed = await (await fetch(`${gw.emulator.url}/api/v1/datasets`, { headers: { authorization: `Bearer ${visualLayerToken(DEMO_ACCOUNTS.primary, {}, gw.emulator.now())}` } })).json() as unknown[]
    expect(listed.length).toBe(11)
    expect(polls.list).toBeGreaterThan(3)
  })
})
