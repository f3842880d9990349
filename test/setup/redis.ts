import type { TestProject } from 'vitest/node'
import { freePort, hasRedisServer, startOwnRedis, stopOwnRedis } from '../helpers/redis-server.js'

/*
 * The run's Redis (vitest globalSetup): TEST_REDIS_URL when it is set, else a redis-server of the run's own
 * on a free port when the binary is there, stopped at the end; else none, and the tests that need Redis are
 * skipped with a hint (test/helpers/cluster.ts), unless REQUIRE_REDIS=1 (CI), where they fail.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    /** The Redis tests share (each with a key prefix of its own), or null when there is none. */
    redisUrl: string | null
  }
}

export default async function setup (project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const given = process.env.TEST_REDIS_URL
  if (given !== undefined && given !== '') {
    project.provide('redisUrl', given)
    return undefined
  }
  if (!hasRedisServer()) {
    project.provide('redisUrl', null)
    return undefined
  }
  const port = await freePort()
  const server = await startOwnRedis(port)
  project.provide('redisUrl', `redis://127.0.0.1:${port}`)
  return async () => { await stopOwnRedis(server) }
}
