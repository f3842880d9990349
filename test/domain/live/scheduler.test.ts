import { afterEach, describe, expect, it, vi } from 'vitest'
import { Channel } from '../../../src/domain/live/channel.js'
import { PollScheduler } from '../../../src/domain/live/scheduler.js'
import { realTime } from '../../../src/domain/live/time.js'

describe('PollScheduler', () => {
  afterEach(() => { vi.useRealTimers() })

  it('holds the whole gateway to its polls per second and shares them fairly between pollers', async () => {
    // A second on a fake clock: the scheduler's clock and its timer move together, exactly.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const scheduler = new PollScheduler(10, { ...realTime, now: () => Date.now() })
    const stop = new AbortController()
    const turns = [0, 0, 0, 0, 0]
    // Five pollers that would each poll as fast as they could.
    const loops = turns.map(async (_, i) => {
      try {
        while (true) {
          await scheduler.turn(stop.signal)
          turns[i] = (turns[i] ?? 0) + 1
        }
      } catch { /* stopped */ }
    })
    await vi.advanceTimersByTimeAsync(1000)
    stop.abort()
    await Promise.all(loops)
    scheduler.close()
    const total = turns.reduce((a, b) => a + b, 0)
    // 10 at once (the bucket) plus about 10 in the second.
    expect(total).toBeGreaterThanOrEqual(15)
    expect(total).toBeLessThanOrEqual(22)
    // FIFO turns: no poller more than one turn ahead of another.
    expect(Math.max(...turns) - Math.min(...turns)).toBeLessThanOrEqual(1)
  })

  it('shares the ceiling between callers first, then between each caller\'s pollers', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const scheduler = new PollScheduler(10, { ...realTime, now: () => Date.now() })
    const stop = new AbortController()
    // Caller a watches eight resources, caller b one; each poller would poll as fast as it could.
    const pollers = [...Array.from({ length: 8 }, () => 'a'), 'b']
    const turns = pollers.map(() => 0)
    const loops = pollers.map(async (group, i) => {
      try {
        while (true) {
          await scheduler.turn(stop.signal, group)
          turns[i] = (turns[i] ?? 0) + 1
        }
      } catch { /* stopped */ }
    })
    // The first second spends the bucket on whoever asked first; from then on, the steady share.
    await vi.advanceTimersByTimeAsync(1000)
    const before = [...turns]
    await vi.advanceTimersByTimeAsync(2000)
    stop.abort()
    await Promise.all(loops)
    scheduler.close()
    const polled = turns.map((n, i) => n - (before[i] ?? 0))
    const a = polled.slice(0, 8)
    const b = polled[8] ?? 0
    const ofA = a.reduce((x, y) => x + y, 0)
    // 20 polls in the two seconds, taken turn about: b's one poller gets as many as a's eight together ...
    expect(ofA + b).toBe(20)
    expect(Math.abs(ofA - b)).toBeLessThanOrEqual(1)
    // ... and a's pollers share a's half alike.
    expect(Math.max(...a) - Math.min(...a)).toBeLessThanOrEqual(1)
  })

  it('lets a waiting poller go when it is stopped', async () => {
    const scheduler = new PollScheduler(1)
    const stop = new AbortController()
    await scheduler.turn(stop.signal)
    const waiting = scheduler.turn(stop.signal)
    stop.abort(new Error('stopped'))
    await expect(waiting).rejects.toThrow('stopped')
    scheduler.close()
  })
})

describe('Channel', () => {
  it('delivers pushed values in order, then ends after them', async () => {
    const channel = new Channel<number>(() => {})
    channel.push(1)
    channel.push(2)
    channel.end()
    expect([await channel.next(), await channel.next(), await channel.next()]).toEqual([
      { value: 1, done: false }, { value: 2, done: false }, { value: undefined, done: true }
    ])
  })

  it('lets a reader go at once on return(), even while it waits', async () => {
    let closed = 0
    const channel = new Channel<number>(() => { closed++ })
    const waiting = channel.next()
    await channel.return()
    expect(await waiting).toEqual({ value: undefined, done: true })
    expect(closed).toBe(1)
    channel.push(3)
    expect(await channel.next()).toEqual({ value: undefined, done: true })
  })

  it('fails a waiting reader, and a reader that fell too far behind', async () => {
    const channel = new Channel<number>(() => {}, 2)
    const waiting = channel.next()
    channel.fail(new Error('gone'))
    await expect(waiting).rejects.toThrow('gone')
    const slow = new Channel<number>(() => {}, 2)
    slow.push(1)
    slow.push(2)
    slow.push(3)
    expect(await slow.next()).toEqual({ value: 1, done: false })
    expect(await slow.next()).toEqual({ value: 2, done: false })
    await expect(slow.next()).rejects.toThrow('the subscriber fell more than 2 events behind')
  })
})
