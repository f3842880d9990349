import { randomUUID } from 'node:crypto'
import { pino } from 'pino'
import { afterEach, expect, it } from 'vitest'
import { Channels, type ChannelListener } from '../../src/cluster/channels.js'
import { LiveLeases, writtenKey } from '../../src/cluster/live-leases.js'
import { WRITTEN } from '../../src/cluster/live-scripts.js'
import { RedisLink } from '../../src/cluster/redis.js'
import type { PollShare } from '../../src/domain/live/share.js'
import { describeWithRedis, TEST_REDIS_URL } from '../helpers/cluster.js'
import { ManualTime } from '../helpers/manual-time.js'

/*
 * The poll leases on the run's Redis (src/cluster/live-leases.ts), two replicas driven round by round.
 * A replica that takes the lease before the message of the last change reached it (pub/sub lost it, or
 * it is still on its way) shows that change to its subscribers, in order, though the poll that found it is
 * older than an interval (the holder before it was late: that is why the lease passed); it does not when
 * the dataset was written after that poll (its own poll, at once, says what the write made).
 * The loss is made by a Channels that drops the next change message it is given: pub/sub loses messages
 * only while a connection is down, which a test cannot time to one message.
 */

const INTERVAL = 100

class LossyChannels extends Channels {
  private readonly wrapped = new Map<ChannelListener, ChannelListener>()
  private dropping: ((message: string) => void) | null = null

  /** Resolves with the next change message, which no listener gets. */
  async dropNext (): Promise<string> {
    return await new Promise((resolve) => { this.dropping = resolve })
  }

  override join (channel: string, listener: ChannelListener): Promise<boolean> {
    const wrapper: ChannelListener = (message) => {
      if (this.dropping !== null && message.startsWith('change ')) {
        this.dropping(message)
        this.dropping = null
        return
      }
      listener(message)
    }
    this.wrapped.set(listener, wrapper)
    return super.join(channel, wrapper)
  }

  override leave (channel: string, listener: ChannelListener): void {
    super.leave(channel, this.wrapped.get(listener) ?? listener)
  }
}

interface Progress { progress: number }
interface Replica { link: RedisLink, channels: LossyChannels, leases: LiveLeases, time: ManualTime }
interface Watcher { share: PollShare<Progress>, heard: Progress[], next: () => Promise<Progress> }

const links: RedisLink[] = []
afterEach(async () => {
  await Promise.all(links.splice(0).map(async (link) => { await link.close() }))
})

async function replicas (prefix: string): Promise<[Replica, Replica]> {
  const one = async (): Promise<Replica> => {
    const link = new RedisLink({ url: TEST_REDIS_URL, keyPrefix: prefix, heartbeatMs: 1_000, commandTimeoutMs: 1_000, requestTimeoutMs: 1_000 }, pino({ level: 'silent' }))
    links.push(link)
    expect(await link.connected(5_000)).toBe(true)
    const channels = new LossyChannels(link)
    const time = new ManualTime()
    return { link, channels, time, leases: new LiveLeases(link, channels, INTERVAL, pino({ level: 'silent' }), time) }
  }
  return [await one(), await one()]
}

function watch (replica: Replica, key: string, datasetId: string): Watcher {
  const heard: Progress[] = []
  let waiting: ((value: Progress) => void) | null = null
  const share = replica.leases.share<Progress>(key, {
    hear: (value) => {
      heard.push(value)
      waiting?.(value)
      waiting = null
    },
    wake: () => {},
    hurry: () => {}
  }, datasetId)
  return { share, heard, next: async () => await new Promise((resolve) => { waiting = resolve }) }
}

/** Replica a polls and publishes 14, which b hears; then 42 from a poll 10 s old, whose message b loses; then a leaves. */
async function lateHolderLeaves (a: Replica, b: Replica, onA: Watcher, onB: Watcher, between?: () => Promise<void>): Promise<void> {
  expect(await onA.share.round()).toEqual({ poll: true })
  expect(await onB.share.round()).toEqual({ poll: false, retryInMs: expect.any(Number) as unknown })
  const heard = onB.next()
  await onA.share.polled({ progress: 14 }, INTERVAL, a.time.now())
  expect(await heard).toEqual({ progress: 14 })
  const lost = b.channels.dropNext()
  await onA.share.polled({ progress: 42 }, INTERVAL, a.time.now() - 10_000)
  expect(await lost).toMatch(/^change \S+ 2 /)
  await between?.()
  onA.share.leave()
  await a.leases.drain()
}

describeWithRedis('poll leases on Redis', () => {
  it('a replica that takes the lease shows the change whose message it lost, from a poll older than an interval', async () => {
    const [a, b] = await replicas(`test:${randomUUID()}:`)
    const [onA, onB] = [watch(a, 'dataset:scope:d1', 'd1'), watch(b, 'dataset:scope:d1', 'd1')]
    await lateHolderLeaves(a, b, onA, onB)
    expect(await onB.share.round()).toEqual({ poll: true })
    expect(onB.heard).toEqual([{ progress: 14 }, { progress: 42 }])
    onB.share.leave()
  })

  it('but not when the dataset was written after that poll: its own poll says what the write made', async () => {
    const prefix = `test:${randomUUID()}:`
    const [a, b] = await replicas(prefix)
    const [onA, onB] = [watch(a, 'dataset:scope:d2', 'd2'), watch(b, 'dataset:scope:d2', 'd2')]
    await lateHolderLeaves(a, b, onA, onB, async () => {
      await b.link.run(async (redis) => await redis.eval(WRITTEN, 1, writtenKey(b.link, 'd2'), 60_000, `${prefix}test`, 'written'))
    })
    expect(await onB.share.round()).toEqual({ poll: true })
    expect(onB.heard).toEqual([{ progress: 14 }])
    onB.share.leave()
  })
})
