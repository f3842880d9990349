import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { describe, inject } from 'vitest'
import type { BuildOptions } from '../../src/app.js'
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js'
import { startGatewayOn, TEST_START, type TestGateway } from './gateway.js'
import { REDIS_INSTALL_HINT } from './redis-server.js'
import { nextEvent } from './wait.js'

/*
 * Several gateway replicas on one emulator and one Redis, as a cluster runs them: each replica its
 * own Fastify app on its own port, all with the same REDIS_URL and a key prefix of this cluster's own,
 * whose keys are deleted on close. Redis: the run's own (test/setup/redis.ts).
 */

const redisUrl = inject('redisUrl')
const requireRedis = process.env.REQUIRE_REDIS === '1'
if (redisUrl === null && requireRedis) throw new Error(`REQUIRE_REDIS=1 and no Redis: redis-server is not on PATH (${REDIS_INSTALL_HINT}), and TEST_REDIS_URL is not set`)
/** Why tests that need Redis are skipped here, or null when they run. */
const redisSkipReason = redisUrl === null
  ? `redis-server not found: ${REDIS_INSTALL_HINT}, or set TEST_REDIS_URL (with REQUIRE_REDIS=1 this is a failure)`
  : null

/** The run's Redis: every test takes a key prefix of its own. */
export const TEST_REDIS_URL = redisUrl ?? 'redis://redis-unavailable.invalid:6379'

/**
 * `describe` for tests that need Redis (or the redis-server binary): skipped, with the reason printed once,
 * where there is neither.
 */
// Skipped only where there is neither redis-server nor TEST_REDIS_URL (a developer machine without Redis); CI sets
// REQUIRE_REDIS=1, which makes that absence a failure, so there these tests always run.
export const describeWithRedis = describe.skipIf(redisSkipReason !== null)
if (redisSkipReason !== null) process.stderr.write(`skipping the tests that need Redis: ${redisSkipReason}\n`)

export interface TestCluster {
  readonly emulator: RunningEmulator
  readonly replicas: TestGateway[]
  /** This cluster's REDIS_KEY_PREFIX. */
  readonly prefix: string
  /** A plain Redis connection for the test's own looks (closed with the cluster). */
  readonly redis: Redis
  /** Starts one more replica with the cluster's settings (plus `env`). */
  addReplica: (env?: Record<string, string>) => Promise<TestGateway>
  /** Closes every replica still open, the emulator, and deletes the cluster's keys. */
  close: () => Promise<void>
}

export async function startCluster (
  { replicas = 3, env = {}, build = {} }: { replicas?: number, env?: Record<string, string>, build?: Omit<BuildOptions, 'logStream'> } = {}
): Promise<TestCluster> {
  const prefix = `test:${randomUUID()}:`
  const emulator = await startEmulator({ clock: TEST_START })
  const redis = new Redis(TEST_REDIS_URL)
  const started: TestGateway[] = []
  const closed = new WeakSet<TestGateway>()
  const addReplica = async (extra: Record<string, string> = {}): Promise<TestGateway> => {
    const settings: Record<string, string> = { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix, ...env, ...extra }
    // A request's count (rate-limit window, connection slot, live queries per caller) waits for Redis up to
    // REDIS_REQUEST_TIMEOUT_MS (50 ms by default) and is then counted in its replica alone: on a machine busy with
    // other work Redis' answer can come later than that, and these tests are of the counts Redis keeps, so a
    // request waits as long as any wait for Redis may. The fallback itself: test/cluster/redis-stall.test.ts.
    settings.REDIS_REQUEST_TIMEOUT_MS ??= settings.REDIS_COMMAND_TIMEOUT_MS ?? '500'
    const gateway = await startGatewayOn(emulator, settings, build)
    const replica: TestGateway = { ...gateway, async close () { if (closed.has(replica)) return; closed.add(replica); await gateway.close() } }
    started.push(replica)
    return replica
  }
  for (let i = 0; i < replicas; i++) await addReplica()
  return {
    emulator,
    replicas: started,
    prefix,
    redis,
    addReplica,
    async close () {
      await Promise.all(started.map(async (replica) => { await replica.close() }))
      await emulator.close()
      const keys: string[] = []
      let cursor = '0'
      do {
        const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
        cursor = next
        keys.push(...found)
      } while (cursor !== '0')
      if (keys.length > 0) await redis.del(...keys)
      redis.disconnect()
    }
  }
}

/**
 * Redis' keyspace events as events of the test (notifications of `Egx`: expiries set, keys deleted,
 * keys expired; turned on for the run's Redis when first asked, they cost nothing while nobody
 * subscribes). `happened` resolves with the key once Redis has told `count` events `event` of keys of
 * this cluster that `match` accepts (names without the prefix) from now on; await `ready` (the
 * subscription in place) before what makes them.
 */
export function keyEvents (
  cluster: Pick<TestCluster, 'prefix'>,
  event: 'expired' | 'expire' | 'del',
  match: (key: string) => boolean,
  count = 1,
  timeoutMs?: number
): { ready: Promise<void>, happened: Promise<string> } {
  const listener = new Redis(TEST_REDIS_URL)
  const ready = (async () => {
    const admin = new Redis(TEST_REDIS_URL)
    try {
      await admin.config('SET', 'notify-keyspace-events', 'Egx')
    } finally {
      admin.disconnect()
    }
    await listener.psubscribe(`__keyevent@*__:${event}`)
  })()
  let seen = 0
  const happened = ready.then(async () => await nextEvent<string>(`${count} ${event} events of the cluster's keys`, (handler) => {
    const onMessage = (_pattern: string, _channel: string, key: string): void => { handler(key) }
    listener.on('pmessage', onMessage)
    return () => { listener.off('pmessage', onMessage) }
  }, (key) => key.startsWith(cluster.prefix) && match(key.slice(cluster.prefix.length)) && ++seen === count, timeoutMs)).finally(() => { listener.disconnect() })
  happened.catch(() => {})
  return { ready, happened }
}

/**
 * One command's round trip on `replica`'s own command connection to Redis: the commands it sent
 * before (a slot released when a socket closed) have been run once this resolves (one connection's
 * commands run in order).
 */
export async function redisRoundTrip (replica: TestGateway): Promise<void> {
  const link = replica.app.redis
  if (link === null) throw new Error('no Redis link')
  await link.run(async (redis) => await redis.ping())
}

export { freePort, stallOwnRedis, startOwnRedis, stopOwnRedis } from './redis-server.js'
