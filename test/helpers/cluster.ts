import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { connect, createServer } from 'node:net'
import { Redis } from 'ioredis'
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js'
import { startGatewayOn, TEST_START, type TestGateway } from './gateway.js'
import { until } from './ws.js'

/*
 * Several gateway replicas on one emulator and one Redis, as a cluster runs them: each replica its
 * own Fastify app on its own port, all with the same REDIS_URL and a key prefix of this cluster's own,
 * whose keys are deleted on close. Redis: TEST_REDIS_URL, or 127.0.0.1:6379 (.ci/run starts it).
 */

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

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

/** A free TCP port on the loopback interface (for a server the test starts itself). */
export async function freePort (): Promise<number> {
  const probe = createServer()
  probe.listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const address = probe.address()
  probe.close()
  await once(probe, 'close')
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

/**
 * A redis-server of the test's own on `port`, once it accepts connections: a test that stops Redis
 * mid-run stops this one, never the 6379 other tests share.
 */
export async function startOwnRedis (port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  await until(async () => await new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true) })
    socket.on('error', () => { resolve(false) })
  }), 10_000, 20)
  return child
}

/** Kills a redis-server startOwnRedis started (at once, as a crash would), and waits for it to exit. */
export async function stopOwnRedis (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGKILL')
  await exited
}
