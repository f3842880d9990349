import { afterEach, describe, expect, it } from 'vitest'
import type { PollRoundMessage } from '../../src/domain/live/events.js'
import { setImmediate } from 'node:timers/promises'
import type { AttemptMessage } from '../../src/domain/webhooks/service.js'
import { SEED } from '../../src/emulator/index.js'
import type { TestGateway } from '../helpers/gateway.js'
import { ManualTime } from '../helpers/manual-time.js'
import { freshToken, startModeGateway, type AuthMode } from '../helpers/modes.js'
import { countTurns, pollsSettled } from '../helpers/polls.js'
import { nextEvent, onChannel } from '../helpers/wait.js'
import { Receiver, type Received } from '../helpers/webhook-receiver.js'

/**
 * The events of an enrichment started through the gateway, from the shared pollers to a real receiver
 * that verifies each with standardwebhooks: the source's status changes, the enrichment task's
 * updates, the enriched copy (found from the enrichment's invalidation) from its first status to READY
 * and enrichment.completed, each once, in order per resource. The emulator's clock and the pollers'
 * (ManualTime) are moved by the test.
 */

const INTERVAL = 250
const SOURCE = SEED.datasets.ready
const rounds = onChannel<PollRoundMessage>('visual-layer:live:round')
const attempts = onChannel<AttemptMessage>('visual-layer:webhooks:attempt')

const open: Array<{ close: () => Promise<void> }> = []
afterEach(async () => { await Promise.all(open.splice(0).map(async (thing) => { await thing.close() })) })

describe.each(['none', 'jwt'] as AuthMode[])('webhook events of an enrichment (AUTH_MODE=%s)', (mode) => {
  it('delivers dataset.status_changed … enrichment.completed, signed, each once, in order per resource', async () => {
    const liveTime = new ManualTime()
    const gw: TestGateway = await startModeGateway(mode, { POLL_INTERVAL_MS: String(INTERVAL), WEBHOOKS_ALLOW_PRIVATE_TARGETS: '127.0.0.1' }, {
      liveTime,
      webhooks: { time: new ManualTime() }
    })
    open.push(gw)
    const receiver = await Receiver.start()
    open.push(receiver)
    const call = async (method: string, path: string, body?: unknown): Promise<{ status: number, body: any }> => {
      const token = freshToken(mode)
      const res = await fetch(`${gw.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) })
      })
      return { status: res.status, body: await res.json() }
    }

    // The source's two pollers (status, tasks) take their baseline before anything changes.
    const baseline = new Set<string>()
    const polled = nextEvent('the baseline polls of the source', rounds, (m) => {
      if (m.registry === gw.app.live && m.datasetId === SOURCE) baseline.add(m.key)
      return baseline.size === 2
    })
    const created = await call('POST', '/v1/webhooks', {
      url: receiver.url,
      events: ['dataset.status_changed', 'dataset.ready', 'dataset.error', 'enrichment.completed', 'task.updated', 'task.failed', 'task.completed'],
      datasetIds: [SOURCE]
    })
    expect(created.status).toBe(201)
    receiver.secrets.push(created.body.secret)
    await polled
    expect(receiver.received).toEqual([])

    const enrichment = await call('POST', `/v1/datasets/${SOURCE}/enrichments`, { models: [{ type: 'CAPTION_IMAGES', modelId: 'vl_image_captioner_v00' }] })
    expect(enrichment.status).toBe(202)
    const copy = enrichment.body.enrichedDatasetId as string
    const webhooks = gw.app.webhooks
    if (webhooks === null) throw new Error('unreachable: webhooks run in this mode')
    /** Once the events of the polls so far are queued (microtasks and a turn of the event loop), every one has been attempted. */
    const deliveriesSettled = async (): Promise<void> => {
      await setImmediate()
      while ((await webhooks.backlog()).pending > 0 || webhooks.running > 0) {
        await nextEvent('an attempt', attempts, (m) => m.service === webhooks)
      }
    }
    const completed = (): boolean => receiver.received.some((got) => got.event.type === 'enrichment.completed')

    // The emulator's enrichment takes 30 s: 2.5 s of it, then every poller's interval, until it is done and delivered.
    const turns = countTurns(gw)
    for (let step = 0; step < 60 && !(completed() && (await webhooks.backlog()).pending === 0 && webhooks.running === 0); step++) {
      gw.emulator.advance(2_500)
      const granted = gw.app.live.turnsGranted
      liveTime.advance(INTERVAL * 4)
      await pollsSettled(gw, turns, granted - turns.count)
      await deliveriesSettled()
    }
    expect(completed()).toBe(true)
    // Later polls of the settled datasets send nothing more.
    const delivered = receiver.received.length
    for (let step = 0; step < 3; step++) {
      gw.emulator.advance(2_500)
      const granted = gw.app.live.turnsGranted
      liveTime.advance(INTERVAL * 4)
      await pollsSettled(gw, turns, granted - turns.count)
      await deliveriesSettled()
    }
    turns.close()
    expect(receiver.received.length).toBe(delivered)

    const events = receiver.received.map((got) => got.event)
    // Every delivery verified, its webhook-id the event's id, and no event twice.
    expect(receiver.received.filter((got) => got.verifiedBy.length !== 1 || got.headers['webhook-id'] !== got.event.id)).toEqual([])
    expect(new Set(events.map((event) => event.id)).size).toBe(events.length)

    const of = (id: string): Received['event'][] => events.filter((event) => (event.data.dataset?.id ?? event.data.task?.datasetId) === id && event.data.task === undefined)
    // The source: read-only while the copy is built, READY again after.
    expect(of(SOURCE).map((event) => [event.type, event.data.previousStatus, event.data.status])).toEqual([
      ['dataset.status_changed', 'READY', 'READ_ONLY'],
      ['dataset.status_changed', 'READ_ONLY', 'READY'],
      ['dataset.ready', undefined, undefined]
    ])
    // The copy: announced from its first status, each change once, then READY, ready and enrichment.completed.
    const copyEvents = of(copy)
    const changes = copyEvents.filter((event) => event.type === 'dataset.status_changed').map((event) => [event.data.previousStatus, event.data.status])
    expect(changes[0]?.[0]).toBe(null)
    expect(changes.slice(1).every(([previous], i) => previous === changes[i]?.[1])).toBe(true)
    expect(changes.at(-1)?.[1]).toBe('READY')
    expect(copyEvents.slice(-3).map((event) => event.type)).toEqual(['dataset.status_changed', 'dataset.ready', 'enrichment.completed'])
    expect(copyEvents.at(-1)?.data).toMatchObject({ sourceDatasetId: SOURCE, dataset: { id: copy, status: 'READY', sourceDatasetId: SOURCE, isReady: true } })
    expect(copyEvents.filter((event) => event.type === 'enrichment.completed')).toHaveLength(1)
    // The enrichment task: updates in order, COMPLETED last, then task.completed.
    const taskEvents = events.filter((event) => event.data.task !== undefined)
    expect(new Set(taskEvents.map((event) => event.data.task.id)).size).toBe(1)
    expect(taskEvents.at(-1)?.type).toBe('task.completed')
    expect(taskEvents.at(-2)).toMatchObject({ type: 'task.updated', data: { task: { type: 'ENRICHMENT', status: 'COMPLETED', datasetId: SOURCE } } })
    const order = ['INITIALIZING', 'RUNNING', 'COMPLETED']
    const statuses = taskEvents.map((event) => order.indexOf(event.data.task.status))
    expect(statuses.every((status, i) => status >= 0 && status >= (statuses[i - 1] ?? 0))).toBe(true)
    // The source's first change comes before the copy is complete.
    expect(events.findIndex((event) => event.data.dataset?.id === SOURCE)).toBeLessThan(events.findIndex((event) => event.type === 'enrichment.completed'))
    expect(events.every((event) => typeof event.timestamp === 'string' && event.id.startsWith('evt_'))).toBe(true)
  })
})
