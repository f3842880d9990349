import { buildSchema } from 'graphql'
import { describe, expect, it } from 'vitest'
import { DocumentCache, readDocumentInTurn, type DocumentLimits } from '../../src/graphql/document.js'
import { ReadTurns } from '../../src/graphql/read-turns.js'

/*
 * Turns for reading documents not read before (src/graphql/read-turns.ts): one read per turn of the event
 * loop, callers in turn, a bounded wait per caller. The turns are driven here by hand: `schedule` keeps
 * the turn the scheduler asks for, and the test gives it.
 */

function manualTurns (maxWaiting: number): { turns: ReadTurns, pending: () => number, give: () => Promise<void> } {
  const scheduled: Array<() => void> = []
  const turns = new ReadTurns(maxWaiting, (run) => { scheduled.push(run) })
  return {
    turns,
    pending: () => scheduled.length,
    // A turn, then the microtasks it lets run (the read that had waited for it).
    give: async () => {
      const run = scheduled.shift()
      if (run === undefined) throw new Error('no turn was asked for')
      run()
      await new Promise<void>((resolve) => { queueMicrotask(resolve) })
      await Promise.resolve()
    }
  }
}

describe('ReadTurns', () => {
  it('gives one read a turn, callers in turn: a caller with three reads waits behind another with one', async () => {
    const { turns, pending, give } = manualTurns(10)
    const order: string[] = []
    const read = (caller: string, n: number): void => { void turns.take(caller).then((given) => { order.push(`${caller}${n}:${String(given)}`) }) }
    read('a', 1)
    read('a', 2)
    read('a', 3)
    read('b', 1)
    // One turn is asked for at a time, however many reads wait.
    expect(pending()).toBe(1)
    expect(turns.size).toBe(4)
    await give()
    expect(order).toEqual(['a1:true'])
    await give()
    expect(order).toEqual(['a1:true', 'b1:true'])
    await give()
    await give()
    expect(order).toEqual(['a1:true', 'b1:true', 'a2:true', 'a3:true'])
    expect(turns.size).toBe(0)
    expect(pending()).toBe(0)
  })

  it('refuses at once a read beyond the caller\'s maxWaiting, and not another caller\'s', async () => {
    const { turns, give } = manualTurns(2)
    const first = turns.take('a')
    const second = turns.take('a')
    expect(await turns.take('a')).toBe(false)
    const other = turns.take('b')
    expect(turns.size).toBe(3)
    await give()
    await give()
    await give()
    expect(await Promise.all([first, second, other])).toEqual([true, true, true])
    // Its reads done, the caller may have two waiting again.
    const again = turns.take('a')
    await give()
    expect(await again).toBe(true)
  })
})

describe('readDocumentInTurn', () => {
  const schema = buildSchema('type Query { a: Int }')

  it('reads a document in the cache at once, and a new one only in its turn', async () => {
    const { turns, pending, give } = manualTurns(1)
    const limits: DocumentLimits = { maxTokens: 100, rules: [], cache: new DocumentCache(), turns }
    const first = readDocumentInTurn('a', schema, '{ a }', limits)
    expect(pending()).toBe(1)
    await give()
    expect((await first).errors).toBeUndefined()
    // Read before: no turn is asked for.
    const again = await readDocumentInTurn('a', schema, '{ a }', limits)
    expect(again.errors).toBeUndefined()
    expect(pending()).toBe(0)
  })

  it('refuses a caller with too many new documents waiting, with RATE_LIMITED and a message that says why', async () => {
    const { turns, give } = manualTurns(1)
    const limits: DocumentLimits = { maxTokens: 100, rules: [], cache: new DocumentCache(), turns }
    const waiting = readDocumentInTurn('a', schema, 'query One { a }', limits)
    const refused = await readDocumentInTurn('a', schema, 'query Two { a }', limits)
    expect(refused.errors?.map((error) => [error.message, (error.originalError as { code?: string } | undefined)?.code])).toEqual([[
      'Too many documents never sent before are waiting to be read for you (at most 1). Wait for their answers, then send more; documents already sent are not counted.',
      'RATE_LIMITED'
    ]])
    await give()
    expect((await waiting).errors).toBeUndefined()
  })
})
