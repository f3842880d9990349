import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { describe, inject } from 'vitest'
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

export async function startCluster ({ replicas = 3, env = {} }: { replicas?: number, env?: Record<string, string> } = {}): Promise<TestCluster> {
  const prefix = `test:${randomUUID()}:`
  const emulator = await startEmulator({ clock: TEST_START })
  const redis = new Redis(TEST_REDIS_URL)
  const started: TestGateway[] = []
  const closed = new WeakSet<TestGateway>()
  const addReplica = async (extra: Record<string, string> = {}): Promise<TestGateway> => {
    const gateway = await startGatewayOn(emulator, { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix, ...env, ...extra })
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
 * Redis' expiries as events (keyspace notifications, `Ex`, turned on for the run's Redis when first
 * asked: they cost nothing while nobody subscribes). `expired` resolves with the first key of this
 * cluster that Redis expires from now on and `match` accepts, once the subscription is in place:
 * await `ready` before what lets the key expire.
 */
export function keyExpiry (cluster: Pick<TestCluster, 'prefix'>, match: (key: string) => boolean, timeoutMs?: number): { ready: Promise<void>, expired: Promise<string> } {
  const listener = new Redis(TEST_REDIS_URL)
  const ready = (async () => {
    const admin = new Redis(TEST_REDIS_URL)
    try {
      await admin.config('SET', 'notify-keyspace-events', 'Ex')
    } finally {
      admin.disconnect()
    }
    await listener.psubscribe('__keyevent@*__:expired')
  })()
  const expired = ready.then(async () => await nextEvent<string>('a key of the cluster to expire', (handler) => {
    const onMessage = (_pattern: string, _channel: string, key: string): void => { handler(key) }
    listener.on('pmessage', onMessage)
    return () => { listener.off('pmessage', onMessage) }
  }, (key) => key.startsWith(cluster.prefix) && match(key.slice(cluster.prefix.length)), timeoutMs)).finally(() => { listener.disconnect() })
  expired.catch(() => {})
  return { ready, expired }
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

export { freePort, startOwnRedis, stopOwnRedis } from './redis-server.js'
