import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { ExecutionResult } from 'graphql'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Channel } from '../../src/domain/live/channel.js'
import { endAtExpiry, Expiry } from '../../src/transports/expiry.js'

/** endAtExpiry on a Channel (what pollers hand out), on fake timers: no waiting on the wall clock. */

const NOW = Date.parse('2026-03-02T12:00:00Z')
const EXPIRED = {
  errors: [expect.objectContaining({
    message: 'Your token expired, so this subscription ended: subscribe again with a fresh token.',
    originalError: expect.objectContaining({ code: 'UNAUTHENTICATED' })
  })]
}

function source (): { channel: Channel<ExecutionResult>, returned: () => number } {
  let returned = 0
  return { channel: new Channel<ExecutionResult>(() => { returned++ }), returned: () => returned }
}

afterEach(() => { vi.useRealTimers() })

describe('endAtExpiry', () => {
  it('return() ends a pending next() at once and closes the source, with no event to wait for', async () => {
    vi.useFakeTimers({ now: NOW })
    const { channel, returned } = source()
    const stream = endAtExpiry(channel, NOW + 60_000)
    const pending = stream.next()
    expect(await stream.return?.()).toEqual({ value: undefined, done: true })
    expect(await pending).toEqual({ value: undefined, done: true })
    expect(returned()).toBe(1)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('at expiry closes the source at once (even with no reader), then gives UNAUTHENTICATED and ends', async () => {
    vi.useFakeTimers({ now: NOW })
    const { channel, returned } = source()
    const stream = endAtExpiry(channel, NOW + 2000)
    channel.push({ data: { n: 1 } })
    expect(await stream.next()).toEqual({ value: { data: { n: 1 } }, done: false })
    vi.advanceTimersByTime(2000)
    expect(returned()).toBe(1)
    expect(await stream.next()).toEqual({ value: EXPIRED, done: false })
    expect(await stream.next()).toEqual({ value: undefined, done: true })
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a token valid for longer than a timer can wait (24.8 days) does not end at once', async () => {
    vi.useFakeTimers({ now: NOW })
    const { channel, returned } = source()
    const thirtyDays = 30 * 24 * 3600 * 1000
    const stream = endAtExpiry(channel, NOW + thirtyDays)
    vi.advanceTimersByTime(2 ** 31)
    expect(returned()).toBe(0)
    const pending = stream.next()
    vi.advanceTimersByTime(thirtyDays - 2 ** 31)
    expect(await pending).toEqual({ value: EXPIRED, done: false })
  })

  it('a source that fails passes its error on and leaves no timer', async () => {
    vi.useFakeTimers({ now: NOW })
    const { channel } = source()
    const stream = endAtExpiry(channel, NOW + 60_000)
    channel.fail(new Error('not found'))
    await expect(stream.next()).rejects.toThrow('not found')
    expect(vi.getTimerCount()).toBe(0)
  })

  it('keeps no memory per event: 100,000 events through one open subscription leave the heap where it was', async () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const { channel } = source()
    // A token that expires in an hour: the subscription stays open through every event.
    const stream = endAtExpiry(channel, Date.now() + 3_600_000)
    const pass = async (events: number): Promise<void> => {
      for (let i = 0; i < events; i++) {
        channel.push({ data: { i } })
        await stream.next()
      }
    }
    await pass(1_000)
    gc()
    const before = process.memoryUsage().heapUsed
    await pass(100_000)
    gc()
    // Each event used to leave a reaction on one long-lived promise: about 40 MB for 100,000 events.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(4 * 1024 * 1024)
    await stream.return?.()
  })

  it('subscriptions of one connection share one expiry timer, armed only while one of them is open', async () => {
    vi.useFakeTimers({ now: NOW })
    const expiry = new Expiry(NOW + 60_000)
    const first = source()
    const second = source()
    const streams = [endAtExpiry(first.channel, expiry), endAtExpiry(second.channel, expiry)]
    expect(vi.getTimerCount()).toBe(1)
    await streams[0]?.return?.()
    expect(vi.getTimerCount()).toBe(1)
    await streams[1]?.return?.()
    expect(vi.getTimerCount()).toBe(0)

    // Two more on the same connection: both end at its token's expiry, from the one timer.
    const third = source()
    const fourth = source()
    const later = [endAtExpiry(third.channel, expiry), endAtExpiry(fourth.channel, expiry)]
    expect(vi.getTimerCount()).toBe(1)
    await vi.advanceTimersByTimeAsync(60_000)
    expect([third.returned(), fourth.returned()]).toEqual([1, 1])
    for (const stream of later) {
      expect(await stream.next()).toEqual({ value: EXPIRED, done: false })
      expect(await stream.next()).toEqual({ value: undefined, done: true })
    }
    expect(vi.getTimerCount()).toBe(0)
  })
})
