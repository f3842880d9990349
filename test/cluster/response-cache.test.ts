import { afterEach, expect, it } from 'vitest'
import type { Invalidation } from '../../src/domain/live/invalidation.js'
import { SEED } from '../../src/emulator/index.js'
import { describeWithRedis, startCluster, type TestCluster } from '../helpers/cluster.js'
import type { TestGateway } from '../helpers/gateway.js'
import { nextEvent } from '../helpers/wait.js'

/*
 * The response cache is each replica's own (in process); the writes that drop its answers are the
 * cluster's: a write through replica A reaches B over the invalidations channel on Redis, and B drops the
 * answers that read the written dataset, and only those. The answers' clock never moves here.
 */

const STATUS = 'query Status($id: ID!) { dataset(id: $id) { id status } }'
const INDEXING = SEED.datasets.indexing
const READY = SEED.datasets.ready

let cluster: TestCluster | undefined
afterEach(async () => {
  await cluster?.close()
  cluster = undefined
})

describeWithRedis('the response cache across replicas', () => {
  it('a write through replica A drops the answers replica B kept of the written dataset', async () => {
    cluster = await startCluster({ replicas: 2, env: { RESPONSE_CACHE_TTL_MS: '60000' }, build: { responseCacheClock: () => 0 } })
    const [a, b] = cluster.replicas
    if (a === undefined || b === undefined) throw new Error('two replicas')
    const status = async (replica: TestGateway, id: string): Promise<unknown> => (await replica.gql(STATUS, { id })).body
    const reads = (id: string): number => cluster?.emulator.calls({ method: 'GET', path: `/api/v1/dataset/${id}` }).length ?? 0

    expect(await status(b, INDEXING)).toEqual({ data: { dataset: { id: INDEXING, status: 'INDEXING' } } })
    expect(await status(b, READY)).toEqual({ data: { dataset: { id: READY, status: 'READY' } } })
    await status(b, INDEXING)
    expect([reads(INDEXING), reads(READY)]).toEqual([1, 1])

    // B has heard the write once its bus carries it (the bridge publishes it there, marked remote).
    const heard = nextEvent<Invalidation>('the write on replica B', (listener) => b.app.invalidations.subscribe(listener), (invalidation) => invalidation.remote === true)
    const aborted = await a.gql(`mutation { abortTask(taskId: "${SEED.tasks.indexingCreation}") { status } }`)
    expect(aborted.body).toEqual({ data: { abortTask: { status: 'ABORTED' } } })
    await heard
    expect(await status(b, INDEXING)).toEqual({ data: { dataset: { id: INDEXING, status: 'ERROR' } } })
    expect(await status(b, READY)).toEqual({ data: { dataset: { id: READY, status: 'READY' } } })
    expect([reads(INDEXING), reads(READY)]).toEqual([2, 1])
  }, 30_000)
})
