import { describe, expect, it } from 'vitest'
import type { GraphQLObjectType } from 'graphql'
import { buildSchema, parse, type ExecutionResult } from 'graphql'
import { GatewayError } from '../../src/errors.js'
import { SharedEvents } from '../../src/graphql/shared-events.js'
import { Channel } from '../../src/domain/live/channel.js'

/*
 * SharedEvents alone, over a small schema whose nested field counts its executions: what is shared,
 * between whom, and what never is. The gateway-level proof (upstream calls) is in
 * test/live/shared-events.test.ts.
 */

interface Event { id: string }

function harness (freshForMs = 1000) {
  let clock = 0
  const executed: string[] = []
  const sources: Array<Channel<Event>> = []
  const schema = buildSchema('type Query { ok: Boolean } type Subscription { changed: Event } type Event { id: ID, detail(as: String): String }')
  const changed = schema.getSubscriptionType()?.getFields().changed
  const detail = (schema.getType('Event') as GraphQLObjectType).getFields().detail
  if (changed === undefined || detail === undefined) throw new Error('unreachable')
  changed.subscribe = () => {
    const channel = new Channel<Event>(() => {})
    sources.push(channel)
    return channel
  }
  changed.resolve = (event: Event) => event
  detail.resolve = (event: Event, args: { as?: string }, ctx: { name: string, refuse?: boolean }) => {
    executed.push(ctx.name)
    if (ctx.refuse === true) throw new GatewayError('UNAUTHENTICATED', 'Visual Layer refused your token.')
    return `${event.id}:${args.as ?? ''}`
  }
  const events = new SharedEvents(freshForMs, () => clock)
  const subscribe = async (name: string, options: { scope?: string, query?: string, variables?: Record<string, unknown>, refuse?: boolean } = {}) => {
    const contextValue = { name, refuse: options.refuse, scope: () => options.scope ?? 'scope-a', call: {}, live: { turn: async () => {} } }
    const document = documents.get(options.query ?? QUERY) ?? parse(options.query ?? QUERY)
    documents.set(options.query ?? QUERY, document)
    const stream = await events.subscribe({ schema, document, contextValue, variableValues: options.variables })
    if (!(Symbol.asyncIterator in stream)) throw new Error(JSON.stringify(stream))
    return stream
  }
  const documents = new Map<string, ReturnType<typeof parse>>()
  return { executed, sources, subscribe, advance: (ms: number) => { clock += ms } }
}

const QUERY = 'subscription { changed { id detail } }'

async function nextOf (stream: AsyncGenerator<ExecutionResult>): Promise<ExecutionResult | undefined> {
  return (await stream.next()).value as ExecutionResult | undefined
}

describe('SharedEvents', () => {
  it('executes one event once for the subscribers of one scope and selection, and again for another scope, document or variables', async () => {
    const { executed, sources, subscribe } = harness()
    const streams = [
      await subscribe('a1'),
      await subscribe('a2'),
      await subscribe('a3'),
      await subscribe('b1', { scope: 'scope-b' }),
      await subscribe('c1', { query: 'subscription { changed { detail id } }' }),
      await subscribe('d1', { query: 'subscription ($as: String) { changed { id detail(as: $as) } }', variables: { as: 'x' } }),
      await subscribe('d2', { query: 'subscription ($as: String) { changed { id detail(as: $as) } }', variables: { as: 'y' } })
    ]
    const event = { id: 'e1' }
    for (const source of sources) source.push(event)
    const results = await Promise.all(streams.map(nextOf))
    expect(results.map((result) => result?.data)).toEqual([
      { changed: { id: 'e1', detail: 'e1:' } },
      { changed: { id: 'e1', detail: 'e1:' } },
      { changed: { id: 'e1', detail: 'e1:' } },
      { changed: { id: 'e1', detail: 'e1:' } },
      { changed: { detail: 'e1:', id: 'e1' } },
      { changed: { id: 'e1', detail: 'e1:x' } },
      { changed: { id: 'e1', detail: 'e1:y' } }
    ])
    expect(executed).toEqual(['a1', 'b1', 'c1', 'd1', 'd2'])

    // Another event object is another event: executed again.
    const next = { id: 'e2' }
    for (const source of sources.slice(0, 3)) source.push(next)
    await Promise.all(streams.slice(0, 3).map(nextOf))
    expect(executed.slice(5)).toEqual(['a1'])
  })

  it('does not share a result whose token Visual Layer refused: the others execute it themselves', async () => {
    const { executed, sources, subscribe } = harness()
    const refused = await subscribe('refused', { refuse: true })
    const others = [await subscribe('o1'), await subscribe('o2')]
    const event = { id: 'e1' }
    for (const source of sources) source.push(event)
    const [first, ...rest] = await Promise.all([refused, ...others].map(nextOf))
    expect(first?.errors?.map((error) => error.message)).toEqual(['Visual Layer refused your token.'])
    expect(rest.map((result) => result?.data)).toEqual([{ changed: { id: 'e1', detail: 'e1:' } }, { changed: { id: 'e1', detail: 'e1:' } }])
    expect(executed).toEqual(['refused', 'o1'])
  })

  it('reuses a result for a later subscriber only within freshForMs', async () => {
    const { executed, sources, subscribe, advance } = harness(1000)
    const event = { id: 'e1' }
    const first = await subscribe('first')
    sources[0]?.push(event)
    await nextOf(first)
    advance(1000)
    const within = await subscribe('within')
    sources[1]?.push(event)
    expect((await nextOf(within))?.data).toEqual({ changed: { id: 'e1', detail: 'e1:' } })
    expect(executed).toEqual(['first'])
    advance(1)
    const late = await subscribe('late')
    sources[2]?.push(event)
    expect((await nextOf(late))?.data).toEqual({ changed: { id: 'e1', detail: 'e1:' } })
    expect(executed).toEqual(['first', 'late'])
  })
})
