import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { SEED } from '../../src/emulator/index.js'
import type { TestGateway } from '../helpers/gateway.js'
import { AUTH_MODES, connectionParams, startModeGateway } from '../helpers/modes.js'
import { record, wsClient } from '../helpers/ws.js'

/**
 * The graphql-transport-ws protocol's rules, each answered with its close code and zero upstream
 * calls; the per-connection and per-caller limits; the same validation as over HTTP. In every auth
 * mode, with tokens that expire.
 */

describe.each(AUTH_MODES)('AUTH_MODE=%s', (mode) => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startModeGateway(mode, { WS_INIT_TIMEOUT_MS: '300', WS_MAX_SUBSCRIPTIONS: '2', WS_MAX_CONNECTIONS_PER_CALLER: '2', MAX_QUERY_DEPTH: '3', POLL_INTERVAL_MS: '250' })
  })
  afterAll(async () => { await gw.close() })
  /** One caller's token: its connections count together against the per-caller limit. */
  const params = connectionParams(mode)
  beforeAll(async () => {
    // passthrough: a token counts against its account only once Visual Layer has accepted it.
    if (mode === 'passthrough') await gw.gql('{ datasets { id } }', {}, params as Record<string, string>)
  })
  const init = (): unknown => ({ type: 'connection_init', payload: params })

  interface Closed { code: number, reason: string }

  /**
   * Opens a raw socket, sends `messages` (after open; with `afterAck`, the rest only once the first,
   * a connection_init, is acknowledged) and resolves with how the server closed it.
   */
  async function closedAfter (messages: unknown[], { protocol = 'graphql-transport-ws', afterAck = false } = {}): Promise<Closed> {
    const socket = new WebSocket(`${gw.url.replace('http', 'ws')}/graphql`, protocol)
    const send = (list: unknown[]): void => { for (const message of list) socket.send(typeof message === 'string' ? message : JSON.stringify(message)) }
    return await new Promise<Closed>((resolve) => {
      socket.on('open', () => { send(afterAck ? messages.slice(0, 1) : messages) })
      socket.on('message', (data) => {
        if (afterAck && (JSON.parse(String(data)) as { type: string }).type === 'connection_ack') send(messages.slice(1))
      })
      socket.on('close', (code, reason) => { resolve({ code, reason: reason.toString() }) })
      socket.on('error', (err) => { resolve({ code: -1, reason: err.message }) })
    })
  }

  const subscribe = (id: string): unknown => ({ id, type: 'subscribe', payload: { query: `subscription { datasetStatusChanged(datasetId: "${SEED.datasets.readOnly}", follow: true) { status } }` } })

  describe('protocol violations', () => {
    it.each([
      ['no connection_init in time', [], { code: 4408, reason: 'Connection initialisation timeout' }],
      ['subscribe before the ack', [subscribe('1')], { code: 4401, reason: 'Unauthorized' }],
      ['a second connection_init', [init(), { type: 'connection_init' }], { code: 4429, reason: 'Too many initialisation requests' }],
      ['a message that is not JSON', [init(), 'hello'], { code: 4400, reason: 'Invalid message received' }],
      ['a message of an unknown type', [init(), { type: 'launch' }], { code: 4400, reason: 'Invalid message received' }]
    ])('closes on %s, with no upstream call', async (_name, messages, expected) => {
      gw.emulator.reset()
      expect(await closedAfter(messages)).toEqual(expected)
      expect(gw.emulator.calls()).toEqual([])
    })

    it('closes on a duplicate subscription id with 4409', async () => {
      gw.emulator.reset()
      const closed = await closedAfter([init(), subscribe('same'), subscribe('same')], { afterAck: true })
      expect(closed).toEqual({ code: 4409, reason: 'Subscriber for same already exists' })
    })

    it('refuses another subprotocol (the legacy subscriptions-transport-ws one): no protocol is agreed', async () => {
      expect(await closedAfter([], { protocol: 'graphql-ws' })).toEqual({ code: -1, reason: 'Server sent no subprotocol' })
    })

    it('answers ping with pong (keep-alive)', async () => {
      const socket = new WebSocket(`${gw.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws')
      const pong = await new Promise<unknown>((resolve) => {
        socket.on('open', () => { socket.send(JSON.stringify(init())) })
        socket.on('message', (data) => {
          const message = JSON.parse(String(data)) as { type: string }
          if (message.type === 'connection_ack') socket.send(JSON.stringify({ type: 'ping' }))
          if (message.type === 'pong') resolve(message)
        })
      })
      socket.close()
      expect(pong).toEqual({ type: 'pong' })
    })
  })

  describe('limits and validation', () => {
    it('refuses a subscription beyond the per-connection ceiling with RATE_LIMITED', async () => {
      gw.emulator.reset()
      const client = wsClient(gw.url, params)
      const query = `subscription { datasetStatusChanged(datasetId: "${SEED.datasets.readOnly}", follow: true) { status } }`
      const kept = [record(client, query), record(client, query)]
      await Promise.all(kept.map(async (sub) => { await sub.received(1) }))
      const third = record(client, query)
      await expect(third.done).rejects.toEqual([expect.objectContaining({
        message: 'Too many subscriptions on this connection: at most 2. Complete one first, or open another connection.',
        extensions: expect.objectContaining({ code: 'RATE_LIMITED' })
      })])
      await client.dispose()
    })

    it('closes a connection beyond the per-caller ceiling with 1008 and a reason', async () => {
      const open = [wsClient(gw.url, params), wsClient(gw.url, params)]
      const query = `subscription { datasetStatusChanged(datasetId: "${SEED.datasets.readOnly}", follow: true) { status } }`
      const subs = open.map((client) => record(client, query))
      await Promise.all(subs.map(async (sub) => { await sub.received(1) }))
      expect(await closedAfter([init()])).toEqual({ code: 1008, reason: 'Too many WebSocket connections: at most 2 per caller. Close one, or share one for many subscriptions.' })
      await Promise.all(open.map(async (client) => { await client.dispose() }))
    })

    it('validates subscription documents as HTTP does: unknown fields and depth, QUERY_REJECTED, no upstream call', async () => {
      gw.emulator.reset()
      const client = wsClient(gw.url, params)
      const unknown = record(client, `subscription { datasetStatusChanged(datasetId: "${SEED.datasets.ready}") { colour } }`)
      await expect(unknown.done).rejects.toEqual([expect.objectContaining({
        message: 'Cannot query field "colour" on type "Dataset".',
        extensions: expect.objectContaining({ code: 'QUERY_REJECTED' })
      })])
      const deep = record(client, `subscription { datasetStatusChanged(datasetId: "${SEED.datasets.ready}") { sourceDataset { sourceDataset { sourceDataset { id } } } } }`)
      await expect(deep.done).rejects.toEqual([expect.objectContaining({
        message: 'The document nests fields more than 3 levels deep, the most this gateway accepts. Split it into several requests.',
        extensions: expect.objectContaining({ code: 'QUERY_REJECTED' })
      })])
      const http = await gw.gql(`{ dataset(id: "${SEED.datasets.ready}") { sourceDataset { sourceDataset { sourceDataset { id } } } } }`, {}, params as Record<string, string>)
      expect([http.status, http.body.errors?.[0]?.message, http.body.errors?.[0]?.extensions?.code]).toEqual([400, 'The document nests fields more than 3 levels deep, the most this gateway accepts. Split it into several requests.', 'QUERY_REJECTED'])
      expect(gw.emulator.calls()).toEqual([])
      await client.dispose()
    })
  })
})
