import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { SEED } from '../../src/emulator/index.js'
import type { TestGateway } from '../helpers/gateway.js'
import { connectionParams, startModeGateway } from '../helpers/modes.js'
import { nextEvent } from '../helpers/wait.js'
import { rawConnection, stillOpen, type RawConnection } from '../helpers/ws.js'

/*
 * Who a WebSocket caller is, and what each kind of socket may hold: sockets before connection_init
 * are capped per address and in all; in passthrough, sockets whose token Visual Layer has not
 * accepted yet count per address apart from proven callers, and move to their account once accepted.
 * Addresses come from X-Forwarded-For, trusted from the loopback proxy (TRUST_PROXY=loopback).
 */

interface Closed { code: number, reason: string }

/** A socket that never sends connection_init; `opened` settles once the upgrade is answered. */
function pendingSocket (gw: TestGateway, address: string): { socket: WebSocket, opened: Promise<void>, closed: Promise<Closed> } {
  const socket = new WebSocket(`${gw.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws', { headers: { 'x-forwarded-for': address } })
  const opened = new Promise<void>((resolve, reject) => { socket.once('open', resolve); socket.once('error', reject) })
  const closed = new Promise<Closed>((resolve) => { socket.once('close', (code, reason) => { resolve({ code, reason: reason.toString() }) }) })
  return { socket, opened, closed }
}

/** A socket that sends connection_init with `params`: acknowledged, or how it was closed. */
async function initialised (gw: TestGateway, address: string, params: Record<string, unknown>): Promise<RawConnection | Closed> {
  try {
    return await rawConnection(gw.url, params, { 'x-forwarded-for': address })
  } catch (err) {
    const match = /^closed (\d+) (.*)$/s.exec((err as Error).message)
    if (match === null) throw err
    return { code: Number(match[1]), reason: match[2] ?? '' }
  }
}

const isOpen = (value: RawConnection | Closed): value is RawConnection => 'socket' in value
const open: WebSocket[] = []
afterEach(() => { for (const socket of open.splice(0)) socket.terminate() })
function keep<T extends RawConnection | Closed> (value: T): T {
  if (isOpen(value)) open.push(value.socket)
  return value
}

describe('sockets before connection_init', () => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startModeGateway('none', { TRUST_PROXY: 'loopback', WS_MAX_PENDING_PER_ADDRESS: '2', WS_MAX_PENDING: '3', WS_INIT_TIMEOUT_MS: '20000' })
  })
  afterAll(async () => { await gw.close() })

  it('closes the pending socket over the per-address cap (1008) and over the total (1013); initialised sockets are unaffected', async () => {
    const ready = keep(await initialised(gw, '10.0.0.1', {}))
    if (!isOpen(ready)) throw new Error(`not acknowledged: ${JSON.stringify(ready)}`)
    const first = [pendingSocket(gw, '10.0.0.1'), pendingSocket(gw, '10.0.0.1')]
    for (const pending of first) open.push(pending.socket)
    await Promise.all(first.map(async (pending) => { await pending.opened }))

    const third = pendingSocket(gw, '10.0.0.1')
    expect(await third.closed).toEqual({ code: 1008, reason: 'Too many WebSocket connections from your address waiting for connection_init: at most 2.' })
    // Another address has its own share, up to the total of 3 pending sockets.
    const other = pendingSocket(gw, '10.0.0.2')
    open.push(other.socket)
    await other.opened
    const overTotal = pendingSocket(gw, '10.0.0.3')
    expect(await overTotal.closed).toEqual({ code: 1013, reason: 'The gateway holds too many WebSocket connections waiting for connection_init; try again shortly.' })

    // The socket that sent connection_init before still runs operations.
    ready.subscribe('1', `subscription { datasetStatusChanged(datasetId: "${SEED.datasets.ready}") { status } }`)
    await ready.received('1', 1)
    expect(ready.events.get('1')).toEqual([{ data: { datasetStatusChanged: { status: 'READY' } } }])

    // A pending socket that sends connection_init no longer counts as pending: its address may open another.
    const initialising = first[0]?.socket
    if (initialising === undefined) throw new Error('no pending socket')
    const acknowledged = nextEvent<string>('connection_ack', (listener) => {
      const onMessage = (data: WebSocket.RawData): void => { listener(String(data)) }
      initialising.on('message', onMessage)
      return () => { initialising.off('message', onMessage) }
    }, (data) => (JSON.parse(data) as { type: string }).type === 'connection_ack')
    initialising.send(JSON.stringify({ type: 'connection_init', payload: {} }))
    await acknowledged
    const next = pendingSocket(gw, '10.0.0.1')
    open.push(next.socket)
    await next.opened
    expect(await stillOpen(next.socket)).toBe(true)
  })
})

describe('passthrough: unproven tokens count apart from proven callers', () => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startModeGateway('passthrough', { TRUST_PROXY: 'loopback', WS_MAX_UNPROVEN_PER_ADDRESS: '20', WS_MAX_CONNECTIONS_PER_CALLER: '20', WS_INIT_TIMEOUT_MS: '20000' })
  })
  afterAll(async () => { await gw.close() })

  it('20 sockets with fresh tokens from one address lock out neither a proven caller behind it nor another address', async () => {
    const fresh = await Promise.all(Array.from({ length: 20 }, async () => keep(await initialised(gw, '10.1.0.1', connectionParams('passthrough')))))
    expect(fresh.filter(isOpen).length).toBe(20)
    expect(keep(await initialised(gw, '10.1.0.1', connectionParams('passthrough')))).toEqual({
      code: 1008,
      reason: 'Too many WebSocket connections from your address with tokens Visual Layer has not accepted yet: at most 20.'
    })

    // A token Visual Layer accepted counts against its account, not the address.
    const proven = connectionParams('passthrough')
    expect((await gw.gql('{ datasets { id } }', {}, proven as Record<string, string>)).status).toBe(200)
    expect(isOpen(keep(await initialised(gw, '10.1.0.1', proven)))).toBe(true)
    // Another client behind another address is not affected.
    expect(isOpen(keep(await initialised(gw, '10.1.0.2', connectionParams('passthrough'))))).toBe(true)
  })

  it('a socket whose token Visual Layer accepts moves to its account, freeing its address\'s share at once', async () => {
    const sockets = await Promise.all(Array.from({ length: 20 }, async () => keep(await initialised(gw, '10.2.0.1', connectionParams('passthrough')))))
    const first = sockets[0]
    if (first === undefined || !isOpen(first)) throw new Error('not acknowledged')
    expect(keep(await initialised(gw, '10.2.0.1', connectionParams('passthrough')))).toMatchObject({ code: 1008 })
    first.subscribe('1', `subscription { datasetStatusChanged(datasetId: "${SEED.datasets.ready}") { status } }`)
    await first.received('1', 1)
    expect(isOpen(keep(await initialised(gw, '10.2.0.1', connectionParams('passthrough'))))).toBe(true)
  })
})
