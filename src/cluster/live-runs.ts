import { createHash } from 'node:crypto'
import type { RunShare, RunSharing } from '../domain/live/cluster-sharing.js'
import type { Channels } from './channels.js'
import type { RedisLink } from './redis.js'

/*
 * Runs shared over the replicas (domain/live/cluster-sharing.ts on Redis). Per key (hashed: a key
 * may hold a credential scope), two names under REDIS_KEY_PREFIX:
 * - `live:run:<hash>:<run>`: the replica that runs it (a run is named by its user), set with SET NX; it lasts CLAIM_MS,
 *   long enough for every replica to have heard the change and asked. Once run, it holds `=<outcome>` for the rest
 *   of that time: a replica that asks after the message went by (it joined later, or the same values came back
 *   within CLAIM_MS and it no longer keeps them) reads it there instead of waiting for a message that has gone.
 * - channel `live:runs:<hash>`: `<run> <outcome>` once the winner has run it.
 * A replica that cannot reach Redis runs every change itself (the claim answers true).
 */

/** How long a claim is kept: the replicas that hear a change ask within that time. */
const CLAIM_MS = 60_000

/** KEYS claim; ARGV channel, message, outcome: the outcome kept in the claim (if it is still there), then published. */
const PUBLISH_OUTCOME = `
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('SET', KEYS[1], '=' .. ARGV[3], 'XX', 'KEEPTTL') end
return redis.call('PUBLISH', ARGV[1], ARGV[2])
`

export class LiveRuns implements RunSharing {
  constructor (private readonly link: RedisLink, private readonly channels: Channels, private readonly me: string) {}

  join (key: string, hear: (change: string, outcome: string) => void): RunShare {
    const hash = createHash('sha256').update(key).digest('hex').slice(0, 32)
    const channel = this.link.key(`live:runs:${hash}`)
    const onMessage = (message: string): void => {
      const space = message.indexOf(' ')
      if (space > 0) hear(message.slice(0, space), message.slice(space + 1))
    }
    void this.channels.join(channel, onMessage)
    let left = false
    return {
      claim: async (change) => {
        if (left || !this.link.up || !this.channels.up) return true
        // Outcomes are heard only once subscribed: a replica that is not claims nothing.
        if (!await this.channels.ready(channel)) return true
        try {
          const set = await this.link.run(async (redis) => await redis.set(this.link.key(`live:run:${hash}:${change}`), this.me, 'PX', CLAIM_MS, 'NX'))
          return set === 'OK'
        } catch {
          return true
        }
      },
      publish: (change, outcome) => {
        if (left || !this.link.up) return
        const claim = this.link.key(`live:run:${hash}:${change}`)
        this.link.run(async (redis) => await redis.eval(PUBLISH_OUTCOME, 1, claim, channel, `${change} ${outcome}`, outcome)).catch(() => {})
      },
      kept: async (change) => {
        if (left || !this.link.up) return null
        try {
          const value = await this.link.run(async (redis) => await redis.get(this.link.key(`live:run:${hash}:${change}`)))
          return value?.startsWith('=') === true ? value.slice(1) : null
        } catch {
          return null
        }
      },
      leave: () => {
        if (left) return
        left = true
        this.channels.leave(channel, onMessage)
      }
    }
  }
}
