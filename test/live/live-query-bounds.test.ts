import type { ExecutionResult } from 'graphql'
import { expect, it } from 'vitest'
import { LiveResults, Subscriber } from '../../src/graphql/live-queries.js'

/**
 * What the gateway keeps for a live-query subscriber that reads slower than results come: at most one
 * unsent result, a newer one replacing it whole (a patch client then starts over from revision 1).
 */

const result = (n: number): ExecutionResult => ({ data: { n } })

it('holds at most one unsent result: a newer one replaces it', async () => {
  let closed = 0
  const results = new LiveResults(() => { closed++ })
  for (let n = 1; n <= 1000; n++) results.push(result(n))
  expect(results.behind).toBe(true)
  expect(await results.next()).toEqual({ value: { data: { n: 1000 } }, done: false })
  expect(results.behind).toBe(false)
  results.end(result(1001))
  expect(await results.next()).toEqual({ value: { data: { n: 1001 } }, done: false })
  expect(await results.next()).toEqual({ value: undefined, done: true })
  expect(closed).toBe(1)
  results.push(result(1002))
  expect(await results.next()).toEqual({ value: undefined, done: true })
  expect(closed).toBe(1)
})

it('return() ends a waiting read at once and closes once', async () => {
  let closed = 0
  const results = new LiveResults(() => { closed++ })
  const waiting = results.next()
  expect(await results.return()).toEqual({ value: undefined, done: true })
  expect(await waiting).toEqual({ value: undefined, done: true })
  expect(closed).toBe(1)
})

it('a patch client that fell behind gets the whole data again as revision 1, then patches from it', async () => {
  const owner = { leave: () => {} } as unknown as ConstructorParameters<typeof Subscriber>[2]
  const caller = { subject: null, credential: { kind: 'service' }, expiresAt: null } as unknown as ConstructorParameters<typeof Subscriber>[0]
  const subscriber = new Subscriber(caller, { lane: 'a', patches: true }, owner)
  const [one, two, three, four] = [1, 2, 3, 4].map(result) as [ExecutionResult, ExecutionResult, ExecutionResult, ExecutionResult]
  subscriber.send(one, null, () => [], '1')
  expect(await subscriber.results.next()).toEqual({ value: { data: { n: 1 }, revision: 1 }, done: false })
  subscriber.send(two, one, () => [{ op: 'replace', path: '/n', value: 2 }], '2')
  // Not read: the next result replaces it, whole.
  subscriber.send(three, two, () => [{ op: 'replace', path: '/n', value: 3 }], '3')
  expect(await subscriber.results.next()).toEqual({ value: { data: { n: 3 }, revision: 1 }, done: false })
  subscriber.send(four, three, () => [{ op: 'replace', path: '/n', value: 4 }], '4')
  expect(await subscriber.results.next()).toEqual({ value: { patch: [{ op: 'replace', path: '/n', value: 4 }], revision: 2 }, done: false })
})
