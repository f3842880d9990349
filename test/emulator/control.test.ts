import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { SEED, startEmulator } from '../../src/emulator/index.js'
import type { RunningEmulator } from '../../src/emulator/index.js'
import { callsArrived, nextCall, when } from '../helpers/wait.js'
import { call, PRIMARY, SECONDARY, signToken, START, startTestEmulator } from './helpers.js'

let emulator: RunningEmulator
beforeAll(async () => { emulator = await startTestEmulator() })
afterAll(async () => { await emulator.close() })
beforeEach(() => { emulator.reset() })

const control = (path: string, method = 'GET', body?: unknown) => call(emulator, `/_emulator${path}`, { method, body, token: null })
const datasetPath = `/api/v1/dataset/${SEED.datasets.ready}`

describe('faults', () => {
  it('answers the next matching call with the fault\'s status, body and headers, then behaves again', async () => {
    emulator.injectFault({ path: '/api/v1/dataset/*', status: 503, body: { detail: 'Service temporarily unavailable' }, headers: { 'retry-after': '2' } })
    const faulted = await call(emulator, datasetPath)
    expect(faulted).toMatchObject({ status: 503, body: { detail: 'Service temporarily unavailable' } })
    expect(faulted.headers.get('retry-after')).toBe('2')
    expect((await call(emulator, datasetPath)).status).toBe(200)
  })

  it('applies to `times` calls, before authentication, with a default detail body', async () => {
    emulator.injectFault({ path: '/api/v1/**', status: 429, times: 2 })
    expect(await call(emulator, '/api/v1/tasks', { token: null })).toMatchObject({ status: 429, body: { detail: 'Too Many Requests' } })
    expect(await call(emulator, datasetPath)).toMatchObject({ status: 429 })
    expect((await call(emulator, datasetPath)).status).toBe(200)
  })

  it('matches on method and path glob, in the order of injection', async () => {
    emulator.injectFault({ method: 'post', path: '/api/v1/tasks/*/abort', status: 500 })
    emulator.injectFault({ path: '/api/v1/tasks', status: 502, body: '<html><body>502 Bad Gateway</body></html>' })
    emulator.injectFault({ path: '/api/v1/tasks', status: 504 })
    expect((await call(emulator, `/api/v1/tasks/${SEED.tasks.readyCreation}/abort`, { method: 'GET' })).status).toBe(405)
    expect((await call(emulator, '/api/v1/tasks/filters')).status).toBe(200)
    const html = await call(emulator, '/api/v1/tasks?page=2')
    expect(html).toMatchObject({ status: 502, text: '<html><body>502 Bad Gateway</body></html>' })
    expect(html.headers.get('content-type')).toMatch(/^text\/plain/)
    expect((await call(emulator, '/api/v1/tasks')).status).toBe(504)
    expect((await call(emulator, `/api/v1/tasks/${SEED.tasks.readyCreation}/abort`, { method: 'POST' })).status).toBe(500)
    expect((await call(emulator, '/api/v1/tasks')).status).toBe(200)
  })

  it('delays an answer, which then comes normally or with the fault\'s status', async () => {
    emulator.injectFault({ path: '/api/v1/healthcheck', delayMs: 300 })
    emulator.injectFault({ path: '/api/v1/healthcheck', delayMs: 200, status: 504 })
    let started = performance.now()
    expect((await call(emulator, '/api/v1/healthcheck')).status).toBe(200)
    expect(performance.now() - started).toBeGreaterThanOrEqual(290)
    started = performance.now()
    expect((await call(emulator, '/api/v1/healthcheck')).status).toBe(504)
    expect(performance.now() - started).toBeGreaterThanOrEqual(190)
  })

  it('holds a call, logged on arrival, until the test releases it; then it answers normally or with the fault', async () => {
    emulator.injectFault({ path: '/api/v1/healthcheck', hold: 'first' })
    emulator.injectFault({ path: '/api/v1/healthcheck', hold: 'second', status: 503 })
    const arrivals = [nextCall(emulator, { path: '/api/v1/healthcheck', phase: 'arrived' }), callsArrived(emulator, { path: '/api/v1/healthcheck' }, 2)]
    const first = call(emulator, '/api/v1/healthcheck')
    const second = call(emulator, '/api/v1/healthcheck')
    await Promise.all(arrivals)
    expect([emulator.held('first'), emulator.held('second')]).toEqual([1, 1])
    expect(emulator.calls({ path: '/api/v1/healthcheck' }).map((record) => record.status)).toEqual([0, 0])
    // Released out of order: each answers when its own hold is released.
    const answered = nextCall(emulator, { path: '/api/v1/healthcheck', phase: 'answered' })
    expect(emulator.release('second')).toBe(1)
    expect((await second).status).toBe(503)
    expect((await answered).status).toBe(503)
    expect(emulator.held('first')).toBe(1)
    expect(emulator.release('first')).toBe(1)
    expect((await first).status).toBe(200)
    expect(emulator.release('first')).toBe(0)
  })

  it('drops a held call whose client leaves, logged with status 0, and holds it no more', async () => {
    emulator.injectFault({ path: '/api/v1/healthcheck', hold: 'left' })
    const arrived = nextCall(emulator, { path: '/api/v1/healthcheck', phase: 'arrived' })
    const leaving = new AbortController()
    const call = fetch(`${emulator.url}/api/v1/healthcheck`, { signal: leaving.signal })
    await arrived
    expect(emulator.held('left')).toBe(1)
    const dropped = when('the held call to be dropped', (listener) => emulator.onHold(listener), () => emulator.held('left') === 0)
    leaving.abort()
    await expect(call).rejects.toThrow()
    await dropped
    expect(emulator.release('left')).toBe(0)
    expect(emulator.calls({ path: '/api/v1/healthcheck' }).map((record) => record.status)).toEqual([0])
  })

  it('lets held calls go on when faults are cleared, and drops them when the emulator closes', async () => {
    emulator.injectFault({ path: '/api/v1/healthcheck', hold: 'h', times: 2 })
    const arrived = nextCall(emulator, { path: '/api/v1/healthcheck', phase: 'arrived' })
    const held = call(emulator, '/api/v1/healthcheck')
    await arrived
    emulator.clearFaults()
    expect((await held).status).toBe(200)
    expect(emulator.held('h')).toBe(0)
    const own = await startTestEmulator()
    own.injectFault({ path: '/api/v1/healthcheck', hold: 'h' })
    const ownArrived = nextCall(own, { path: '/api/v1/healthcheck', phase: 'arrived' })
    const dropped = call(own, '/api/v1/healthcheck')
    await ownArrived
    await own.close()
    await expect(dropped).rejects.toThrow()
  })

  it('drops the connection without an answer and logs status 0', async () => {
    emulator.injectFault({ path: '/api/v1/datasets', drop: true })
    await expect(call(emulator, '/api/v1/datasets')).rejects.toThrow()
    expect((await call(emulator, '/api/v1/datasets')).status).toBe(200)
    expect(emulator.calls({ path: '/api/v1/datasets' }).map((record) => record.status)).toEqual([0, 200])
  })

  it('clears faults, and reset clears them too', async () => {
    emulator.injectFault({ path: '/api/v1/**', status: 500, times: 10 })
    emulator.clearFaults()
    expect((await call(emulator, datasetPath)).status).toBe(200)
    emulator.injectFault({ path: '/api/v1/**', status: 500 })
    emulator.reset()
    expect((await call(emulator, datasetPath)).status).toBe(200)
  })

  it('refuses an invalid FaultSpec from code', () => {
    expect(() => { emulator.injectFault({ path: 'no-slash', status: 500 }) }).toThrow()
    expect(() => { emulator.injectFault({ path: '/api/v1/**' }) }).toThrow()
  })
})

describe('call log', () => {
  it('records every /api/v1 call with its key, query, final status and emulator time', async () => {
    await call(emulator, '/api/v1/healthcheck', { token: null })
    await call(emulator, '/api/v1/tasks?page=2&task_type=REINDEX&task_type=ENRICHMENT')
    await call(emulator, datasetPath, { token: signToken({ account: SECONDARY }) })
    await call(emulator, datasetPath, { token: signToken({ secret: 'wrong' }) })
    await call(emulator, datasetPath, { token: 'garbage' })
    emulator.advance(1500)
    await call(emulator, '/api/v1/nowhere', { method: 'POST' })
    await control('/clock')
    expect(emulator.calls()).toEqual([
      { method: 'GET', path: '/api/v1/healthcheck', query: {}, apiKey: null, requestId: null, status: 200, at: '2026-03-02T12:00:00.000Z' },
      { method: 'GET', path: '/api/v1/tasks', query: { page: '2', task_type: 'ENRICHMENT' }, apiKey: PRIMARY.apiKey, requestId: null, status: 200, at: '2026-03-02T12:00:00.000Z' },
      { method: 'GET', path: datasetPath, query: {}, apiKey: SECONDARY.apiKey, requestId: null, status: 404, at: '2026-03-02T12:00:00.000Z' },
      { method: 'GET', path: datasetPath, query: {}, apiKey: PRIMARY.apiKey, requestId: null, status: 401, at: '2026-03-02T12:00:00.000Z' },
      { method: 'GET', path: datasetPath, query: {}, apiKey: null, requestId: null, status: 401, at: '2026-03-02T12:00:00.000Z' },
      { method: 'POST', path: '/api/v1/nowhere', query: {}, apiKey: PRIMARY.apiKey, requestId: null, status: 404, at: '2026-03-02T12:00:01.500Z' }
    ])
    expect(emulator.calls({ method: 'post' }).map((record) => record.path)).toEqual(['/api/v1/nowhere'])
    expect(emulator.calls({ path: '/api/v1/dataset/*' })).toHaveLength(3)
    expect(emulator.calls({ path: '/api/v1/*' })).toHaveLength(3)
    emulator.clearCalls()
    expect(emulator.calls()).toEqual([])
  })
})

describe('control API under /_emulator', () => {
  it('reads and moves the clock, never backwards', async () => {
    expect(await control('/clock')).toMatchObject({ status: 200, body: { now: '2026-03-02T12:00:00.000Z' } })
    expect((await control('/clock', 'POST', { advanceMs: 30_000 })).body).toEqual({ now: '2026-03-02T12:00:30.000Z' })
    expect((await call(emulator, `/api/v1/dataset/${SEED.datasets.indexing}`)).body).toMatchObject({ status_new: 'READY' })
    expect((await control('/clock', 'POST', { set: '2026-03-02T14:00:00+01:00' })).body).toEqual({ now: '2026-03-02T13:00:00.000Z' })
    expect(await control('/clock', 'POST', { set: '2026-03-02T12:00:00Z' })).toMatchObject({
      status: 400, body: { detail: 'The emulator clock never moves backwards (now 2026-03-02T13:00:00.000Z); use reset to start over' }
    })
    const bad = await control('/clock', 'POST', { advanceMs: -5 })
    expect(bad.status).toBe(400)
    expect((bad.body as { detail: string }).detail).toContain('expected {"advanceMs": <ms >= 0>} or {"set": "<ISO datetime>"}')
    expect((await call(emulator, '/_emulator/clock', { method: 'POST', rawBody: 'nope', token: null })).status).toBe(400)
  })

  it('resets the world', async () => {
    await call(emulator, `/api/v1/tasks/${SEED.tasks.draftCreation}/abort`, { method: 'POST' })
    await control('/clock', 'POST', { advanceMs: 60_000 })
    expect((await control('/reset', 'POST')).body).toEqual({ reset: true, now: '2026-03-02T12:00:00.000Z' })
    expect((await call(emulator, `/api/v1/dataset/${SEED.datasets.draft}`)).body).toMatchObject({ status_new: 'DRAFT' })
    expect(emulator.calls()).toHaveLength(1)
  })

  it('lists, filters and clears calls without logging itself', async () => {
    await call(emulator, '/api/v1/healthcheck')
    await call(emulator, '/api/v1/datasets', { method: 'POST' })
    expect((await control('/calls')).body).toEqual([
      { method: 'GET', path: '/api/v1/healthcheck', query: {}, apiKey: PRIMARY.apiKey, requestId: null, status: 200, at: '2026-03-02T12:00:00.000Z' },
      { method: 'POST', path: '/api/v1/datasets', query: {}, apiKey: PRIMARY.apiKey, requestId: null, status: 405, at: '2026-03-02T12:00:00.000Z' }
    ])
    expect((await control('/calls?method=POST&path=/api/v1/*')).body).toHaveLength(1)
    expect((await control('/calls?path=/api/v1/tasks/**')).body).toEqual([])
    expect(await control('/calls', 'DELETE')).toMatchObject({ status: 200, body: { cleared: true } })
    expect((await control('/calls')).body).toEqual([])
  })

  it('injects validated faults and clears them', async () => {
    const injected = await control('/faults', 'POST', { path: '/api/v1/tasks', status: 503, times: 1 })
    expect(injected).toMatchObject({ status: 200, body: { injected: { path: '/api/v1/tasks', status: 503, times: 1 } } })
    expect((await call(emulator, '/api/v1/tasks')).status).toBe(503)
    const bad = await control('/faults', 'POST', { path: '/api/v1/tasks', status: 'soon' })
    expect(bad.status).toBe(400)
    expect((bad.body as { detail: string }).detail).toMatch(/^Invalid body \(status: /)
    expect((await control('/faults', 'POST', { path: '/x', status: 500, color: 'red' })).status).toBe(400)
    expect((await control('/faults', 'POST', { path: '/x' })).body).toMatchObject({ detail: expect.stringContaining('a fault needs status, delayMs, drop or hold') })
    await control('/faults', 'POST', { path: '/api/v1/**', status: 500, times: 5 })
    expect(await control('/faults', 'DELETE')).toMatchObject({ status: 200, body: { cleared: true } })
    expect((await call(emulator, '/api/v1/tasks')).status).toBe(200)
  })

  it('holds calls by name and releases them over the control API', async () => {
    expect(await control('/faults', 'POST', { path: '/api/v1/healthcheck', hold: 'gate' })).toMatchObject({ status: 200, body: { injected: { path: '/api/v1/healthcheck', hold: 'gate' } } })
    const arrived = nextCall(emulator, { path: '/api/v1/healthcheck', phase: 'arrived' })
    const held = call(emulator, '/api/v1/healthcheck')
    await arrived
    expect(await control('/holds/gate')).toMatchObject({ status: 200, body: { held: 1 } })
    expect(await control('/holds/gate/release', 'POST')).toMatchObject({ status: 200, body: { released: 1 } })
    expect((await held).status).toBe(200)
    expect(await control('/holds/gate')).toMatchObject({ status: 200, body: { held: 0 } })
  })

  it('holds every /api/v1 call for the latency it is given, leaves faults to apply after it, and reset returns to no latency', async () => {
    expect((await control('/latency')).body).toEqual({ latencyMs: 0 })
    expect(await control('/latency', 'POST', { latencyMs: 150 })).toMatchObject({ status: 200, body: { latencyMs: 150 } })
    expect(emulator.latencyMs()).toBe(150)
    emulator.injectFault({ path: '/api/v1/tasks', status: 503 })
    let started = performance.now()
    expect((await call(emulator, datasetPath)).status).toBe(200)
    expect(performance.now() - started).toBeGreaterThanOrEqual(145)
    started = performance.now()
    expect((await call(emulator, '/api/v1/tasks')).status).toBe(503)
    expect(performance.now() - started).toBeGreaterThanOrEqual(145)
    // Not consumed like a delay fault: every call waits.
    started = performance.now()
    expect((await call(emulator, '/api/v1/tasks')).status).toBe(200)
    expect(performance.now() - started).toBeGreaterThanOrEqual(145)
    expect(emulator.calls().map((record) => record.status)).toEqual([200, 503, 200])
    const bad = await control('/latency', 'POST', { latencyMs: -1 })
    expect(bad.status).toBe(400)
    expect((bad.body as { detail: string }).detail).toMatch(/^Invalid body \(latencyMs: .*\); expected \{"latencyMs": <integer ms, 0 to 60000>\}$/)
    expect((await control('/latency', 'POST', { ms: 20 })).status).toBe(400)
    expect(emulator.latencyMs()).toBe(150)
    emulator.reset()
    expect((await control('/latency')).body).toEqual({ latencyMs: 0 })
  })

  it('starts with the latency of its options', async () => {
    const slow = await startEmulator({ clock: START, latencyMs: 120 })
    try {
      const started = performance.now()
      expect((await call(slow, '/api/v1/healthcheck')).status).toBe(200)
      expect(performance.now() - started).toBeGreaterThanOrEqual(115)
      slow.setLatency(0)
      slow.reset()
      expect(slow.latencyMs()).toBe(120)
    } finally {
      await slow.close()
    }
  })

  it('adds tasks to a dataset, one a second up to now, and refuses an unknown dataset or a bad count', async () => {
    const added = await control('/tasks', 'POST', { datasetId: SEED.datasets.readySecond, count: 3, runMs: 60_000 })
    expect(added.status).toBe(200)
    const ids = (added.body as { tasks: string[] }).tasks
    const page = await call(emulator, `/api/v1/tasks?dataset_id=${SEED.datasets.readySecond}&page_size=5`)
    expect((page.body as { total: number }).total).toBe(11)
    expect((page.body as { tasks: Array<Record<string, unknown>> }).tasks.slice(0, 3).map((task) => [task.task_id, task.task_type, task.status, task.start_time]))
      .toEqual([
        [ids[2], 'REINDEX', 'INITIALIZING', '2026-03-02T12:00:00Z'],
        [ids[1], 'REINDEX', 'INITIALIZING', '2026-03-02T11:59:59Z'],
        [ids[0], 'REINDEX', 'INITIALIZING', '2026-03-02T11:59:58Z']
      ])
    expect(await control('/tasks', 'POST', { datasetId: 'nope', count: 1 })).toMatchObject({ status: 404, body: { detail: 'No dataset nope' } })
    expect((await control('/tasks', 'POST', { datasetId: SEED.datasets.readySecond, count: 0 })).status).toBe(400)
  })

  it('answers 404 and 405 in Visual Layer\'s shape', async () => {
    expect(await control('/nothing')).toMatchObject({ status: 404, body: { detail: 'Not Found' } })
    expect(await control('/reset', 'GET')).toMatchObject({ status: 405, body: { detail: 'Method Not Allowed' } })
  })
})
