import { randomUUID } from 'node:crypto'
import type { Client } from 'graphql-ws'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import type { TestGateway } from '../helpers/gateway.js'
import { AUTH_MODES, connectionParams, startModeGateway } from '../helpers/modes.js'
import { ManualTime } from '../helpers/manual-time.js'
import { asleep, nextTurn } from '../helpers/polls.js'
import { record, wsClient } from '../helpers/ws.js'

/**
 * taskUpdated with the id of a task that is not among its dataset's 50 newest: the subscription
 * finds it by paging the task list (at most 10 pages of 50), then watches it alone with one GET a
 * poll, narrowed to the second it started. The emulator's control API gives the dataset its tasks.
 */

const INTERVAL = 250
const DATASET = SEED.datasets.readySecond
/** readySecond's seeded tasks, all older than the ones a test adds. */
const SEEDED_TASKS = 8
type TaskEvent = { taskUpdated: { id: string, status: string, progress: number | null } }

const newest = { dataset_id: DATASET, sort_by: 'start_time', sort_order: 'desc', page_size: '50' }

describe.each(AUTH_MODES)('taskUpdated beyond the newest 50 (AUTH_MODE=%s)', (mode) => {
  let gw: TestGateway
  const clients: Client[] = []
  const time = new ManualTime()
  beforeAll(async () => { gw = await startModeGateway(mode, { POLL_INTERVAL_MS: String(INTERVAL) }, { liveTime: time }) })
  afterEach(async () => { await Promise.all(clients.splice(0).map(async (client) => { await client.dispose() })) })
  afterAll(async () => { await gw.close() })

  function subscribe (taskId: string): ReturnType<typeof record<TaskEvent>> {
    const client = wsClient(gw.url, connectionParams(mode))
    clients.push(client)
    return record<TaskEvent>(client, `subscription { taskUpdated(datasetId: "${DATASET}", taskId: "${taskId}") { id status progress } }`)
  }

  /** Adds `count` tasks to the dataset, one a second, the last starting now; answers their ids, oldest first. */
  async function addTasks (count: number, runMs?: number): Promise<string[]> {
    const res = await fetch(`${gw.emulator.url}/_emulator/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ datasetId: DATASET, count, runMs })
    })
    expect(res.status).toBe(200)
    return (await res.json() as { tasks: string[] }).tasks
  }

  const taskQueries = (): unknown[] => gw.emulator.calls({ method: 'GET', path: '/api/v1/tasks' }).map((c) => c.query)

  it('finds a task on the second page, sends it, then each change with one narrowed GET a poll, and completes', async () => {
    gw.emulator.reset()
    const [oldest] = await addTasks(60, 120_000) // started at 11:59:01, RUNNING since 11:59:06
    const taskId = oldest as string
    const sub = subscribe(taskId)
    await sub.received(1)
    expect(sub.events[0]?.data?.taskUpdated).toEqual({ id: taskId, status: 'RUNNING', progress: 45 })
    // Each step: 10 s on for Visual Layer, then the task's poller polls (time moves to its timer), until it stops.
    await asleep(gw, time)
    for (let i = 0; i < 20 && time.pending > 0; i++) {
      gw.emulator.advance(10_000)
      const turn = nextTurn(gw, DATASET)
      time.runNext()
      if (await turn === null) break
    }
    await sub.done
    expect(sub.events.at(-1)?.data?.taskUpdated).toEqual({ id: taskId, status: 'COMPLETED', progress: 100 })
    const progress = sub.events.map((event) => event.data?.taskUpdated.progress ?? -1)
    expect(progress).toEqual([...progress].sort((a, b) => a - b))
    // The newest page (the dataset's shared poller), the second page (the lookup), then one GET a poll.
    const queries = taskQueries()
    const narrowed = { ...newest, start_time_from: '2026-03-02T11:59:01.000Z', start_time_to: '2026-03-02T11:59:01.999Z', page: '1' }
    expect(queries.slice(0, 2)).toEqual([{ ...newest, page: '1' }, { ...newest, page: '2' }])
    // Every event after the first came from a poll of its own (one poll may find no change).
    expect(queries.length).toBeGreaterThanOrEqual(sub.events.length + 1)
    expect(queries.slice(2)).toEqual(queries.slice(2).map(() => narrowed))
  })

  it('ends with NOT_FOUND naming how many tasks it looked through for an id that is nowhere', async () => {
    gw.emulator.reset()
    await addTasks(60)
    const taskId = randomUUID()
    const sub = subscribe(taskId)
    await expect(sub.done).rejects.toEqual([expect.objectContaining({
      message: `Task ${taskId} is not among the ${60 + SEEDED_TASKS} most recent tasks of dataset ${DATASET}, or you may not see it.`,
      extensions: expect.objectContaining({ code: 'NOT_FOUND' })
    })])
    expect(sub.events).toEqual([])
    expect(taskQueries()).toEqual([{ ...newest, page: '1' }, { ...newest, page: '2' }])
  })

  it('looks through at most 10 pages (500 tasks) before NOT_FOUND', async () => {
    gw.emulator.reset()
    const [oldest] = await addTasks(600)
    const sub = subscribe(oldest as string)
    await expect(sub.done).rejects.toEqual([expect.objectContaining({
      message: `Task ${oldest as string} is not among the 500 most recent tasks of dataset ${DATASET}, or you may not see it.`,
      extensions: expect.objectContaining({ code: 'NOT_FOUND' })
    })])
    expect(taskQueries()).toEqual(Array.from({ length: 10 }, (_, i) => ({ ...newest, page: String(i + 1) })))
  })
})
