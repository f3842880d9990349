import { randomUUID } from 'node:crypto'
import { pino } from 'pino'
import { afterEach, expect, it } from 'vitest'
import { Channels } from '../../src/cluster/channels.js'
import { LiveRuns } from '../../src/cluster/live-runs.js'
import { RedisLink } from '../../src/cluster/redis.js'
import { changeOf, SharedRuns } from '../../src/graphql/live-runs.js'
import { describeWithRedis, TEST_REDIS_URL } from '../helpers/cluster.js'

/*
 * The claims behind a live query's executions shared over the cluster (src/cluster/live-runs.ts,
 * src/graphql/live-runs.ts), on the run's Redis: of the replicas that heard one change, one claims it;
 * the others get what it published, or null (execute yourselves) when it published none usable; an
 * outcome that came before a replica asked is kept for it.
 */

const links: RedisLink[] = []
afterEach(async () => {
  await Promise.all(links.splice(0).map(async (link) => { await link.close() }))
})

async function replicas (count: number): Promise<LiveRuns[]> {
  const prefix = `test:${randomUUID()}:`
  return await Promise.all(Array.from({ length: count }, async (_, i) => {
    const link = new RedisLink({ url: TEST_REDIS_URL, keyPrefix: prefix, heartbeatMs: 1_000, commandTimeoutMs: 1_000, requestTimeoutMs: 200 }, pino({ level: 'silent' }))
    links.push(link)
    expect(await link.connected(5_000)).toBe(true)
    return new LiveRuns(link, new Channels(link), `replica-${i}`)
  }))
}

describeWithRedis('live query runs shared over the cluster', () => {
  it('one of three replicas claims a change; the others get its result and the resources it read', async () => {
    const runs = (await replicas(3)).map((sharing) => new SharedRuns(sharing))
    const key = 'scope\ndocument\n["DatasetPage",{"id":"d1"}]'
    for (const run of runs) expect(await run.joined(key)?.claim('warm-up')).toBeTypeOf('boolean')
    const change = changeOf('dataset d1', { id: 'd1', status_new: 'INDEXING', progress: 40 })
    expect(change).toBe(changeOf('dataset d1', { id: 'd1', status_new: 'INDEXING', progress: 40 }))
    expect(change).not.toBe(changeOf('dataset d1', { id: 'd1', status_new: 'INDEXING', progress: 41 }))
    const claims = await Promise.all(runs.map(async (run) => await run.claim(key, change)))
    expect(claims.filter(Boolean)).toHaveLength(1)
    const winner = claims.indexOf(true)
    const others = runs.filter((_run, i) => i !== winner)
    const heard = Promise.all(others.map(async (run) => await run.outcome(change)))
    runs[winner]?.publish(key, change, { resources: ['dataset d1', 'tasks d1'], text: '{"data":{"dataset":{"id":"d1"}}}' })
    expect(await heard).toEqual([
      { resources: ['dataset d1', 'tasks d1'], text: '{"data":{"dataset":{"id":"d1"}}}' },
      { resources: ['dataset d1', 'tasks d1'], text: '{"data":{"dataset":{"id":"d1"}}}' }
    ])
    // Heard before asked (the claim's answer came after the outcome): kept.
    expect(await others[0]?.outcome(change)).toEqual({ resources: ['dataset d1', 'tasks d1'], text: '{"data":{"dataset":{"id":"d1"}}}' })
    // Changes heard together are named alike whatever their order.
    expect(runs[0]?.nameOf(['a', 'b'])).toBe(runs[1]?.nameOf(['b', 'a']))
    expect(runs[0]?.nameOf(null)).toBeNull()
    for (const run of runs) run.leave()
  })

  it('a winner with no usable result tells the others to execute themselves; a replica that left waits for nothing', async () => {
    const [a, b] = (await replicas(2)).map((sharing) => new SharedRuns(sharing))
    if (a === undefined || b === undefined) throw new Error('two replicas')
    const key = 'scope\ndocument\nnull'
    await Promise.all([a.joined(key)?.claim('warm-up'), b.joined(key)?.claim('warm-up')])
    expect(await a.claim(key, 'c1')).toBe(true)
    expect(await b.claim(key, 'c1')).toBe(false)
    const heard = b.outcome('c1')
    a.publish(key, 'c1', null)
    expect(await heard).toBeNull()
    expect(await a.claim(key, 'c2')).toBe(true)
    expect(await b.claim(key, 'c2')).toBe(false)
    const waiting = b.outcome('c2')
    b.leave()
    expect(await waiting).toBeNull()
    a.leave()
  })

  it('a replica that asks after the outcome was published (it joined later, or the same values came back) reads it from the claim at once', async () => {
    const [a, b, c] = (await replicas(3)).map((sharing) => new SharedRuns(sharing))
    if (a === undefined || b === undefined || c === undefined) throw new Error('three replicas')
    const key = 'scope\ndocument\n["DatasetPage",{"id":"d2"}]'
    const outcome = { resources: ['dataset d2'], text: '{"data":{"dataset":{"id":"d2"}}}' }
    expect(await a.joined(key)?.claim('warm-up')).toBe(true)
    expect(await a.claim(key, 'c1')).toBe(true)
    const published = a.outcome('c1')
    a.publish(key, 'c1', outcome)
    // Heard by the winner itself: the script that kept it in the claim has run.
    expect(await published).toEqual(outcome)
    // b joins now: the message has gone by. It loses the claim and takes the kept outcome (waiting for a message
    // instead, it would give up after RUN_WAIT_MS and execute itself: null).
    expect(await b.joined(key)?.claim('warm-up')).toBe(false)
    expect(await b.claim(key, 'c1')).toBe(false)
    expect(await b.outcome('c1')).toEqual(outcome)
    // A winner with no usable outcome keeps that too: the late replica executes itself, at once.
    expect(await a.claim(key, 'c2')).toBe(true)
    const none = a.outcome('c2')
    a.publish(key, 'c2', null)
    expect(await none).toBeNull()
    expect(await c.joined(key)?.claim('warm-up')).toBe(false)
    expect(await c.claim(key, 'c2')).toBe(false)
    expect(await c.outcome('c2')).toBeNull()
    for (const run of [a, b, c]) run.leave()
  })

  it('without a cluster every replica executes for itself', async () => {
    const alone = new SharedRuns(null)
    expect(alone.nameOf(['a'])).toBeNull()
    expect(await alone.claim('key', 'a')).toBe(true)
  })
})
