import type { RedisLink } from './redis.js'

/*
 * Fixed-window counters on Redis, shared by the replicas: the HTTP doors' rate limits and the
 * WebSocket door's operation allowances. One INCR per request in a script that also starts the
 * window (PEXPIRE on the first count), as @fastify/rate-limit's own Redis store counts. A command
 * that fails, or passes the request-path deadline (REDIS_REQUEST_TIMEOUT_MS), throws: the caller (src/transports/allowance-windows.ts)
 * counts locally meanwhile.
 */

const INCREMENT = `
local current = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if current == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {current, ttl}`

export interface WindowCount {
  /** Counted in this window, this one included. */
  current: number
  /** Until the window ends. */
  ttlMs: number
}

export class RedisWindows {
  constructor (private readonly link: RedisLink) {}

  async incr (key: string, windowMs: number): Promise<WindowCount> {
    const [current, ttlMs] = await this.link.runForRequest(async (redis) =>
      await redis.eval(INCREMENT, 1, this.link.key(`rate:${key}`), windowMs)) as [number, number]
    return { current, ttlMs }
  }
}
