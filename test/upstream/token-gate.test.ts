import { describe, expect, it } from 'vitest'
import { TokenGate } from '../../src/upstream/token-gate.js'

describe('the gate of unproven tokens', () => {
  it('lets one holder per token through at a time, in arrival order, and other tokens meanwhile', async () => {
    const gate = new TokenGate()
    const order: string[] = []
    const first = await gate.acquire('t')
    const second = gate.acquire('t').then((release) => { order.push('second'); return release })
    const third = gate.acquire('t').then((release) => { order.push('third'); return release })
    const other = await gate.acquire('u')
    order.push('other')
    expect(order).toEqual(['other'])
    first()
    const releaseSecond = await second
    expect(order).toEqual(['other', 'second'])
    releaseSecond()
    releaseSecond()
    ;(await third)()
    other()
    expect(order).toEqual(['other', 'second', 'third'])
    expect(gate.size).toBe(0)
  })

  it('drops a waiter whose caller went away, and the turn passes over it', async () => {
    const gate = new TokenGate()
    const first = await gate.acquire('t')
    const controller = new AbortController()
    const gone = gate.acquire('t', controller.signal)
    const next = gate.acquire('t')
    controller.abort(new Error('caller went away'))
    await expect(gone).rejects.toThrow('caller went away')
    first()
    ;(await next)()
    expect(gate.size).toBe(0)
  })
})
