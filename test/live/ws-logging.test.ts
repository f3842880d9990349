import type { Socket } from 'node:net'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest'
import WebSocket from 'ws'
import { SEED } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { ManualTime } from '../helpers/manual-time.js'
import { pollNow } from '../helpers/polls.js'
import { when } from '../helpers/wait.js'
import { rawConnection } from '../helpers/ws.js'

/**
 * What a WebSocket connection's troubles leave in the log: one structured line (pino JSON through
 * the app's logger) at info or debug, never error lines nor plain text on stderr.
 */

let gw: TestGateway
let consoleError: MockInstance
let consoleWarn: MockInstance
const time = new ManualTime()
beforeAll(async () => { gw = await startTestGateway({ POLL_INTERVAL_MS: '250' }, { liveTime: time }) })
afterAll(async () => { await gw.close() })
beforeEach(() => {
  consoleError = vi.spyOn(console, 'error')
  consoleWarn = vi.spyOn(console, 'warn')
})
afterEach(() => { vi.restoreAllMocks() })

const entries = (): Array<Record<string, unknown>> => gw.logs.entries()
// The socket's own lines; each operation's closing line (src/plugins/operations.ts) is counted elsewhere (test/observability).
const isSocketLine = (entry: Record<string, unknown>): boolean => (entry.component === 'websocket' && entry.operation === undefined) || Number(entry.level) >= 40
const socketLines = (from: number): Array<Record<string, unknown>> => entries().slice(from).filter(isSocketLine)

describe('WebSocket troubles in the log', () => {
  it('a frame over the size limit: closed with 1009, one info line, nothing on stderr', async () => {
    const from = entries().length
    const raw = await rawConnection(gw.url)
    const closed = new Promise<number>((resolve) => { raw.socket.on('close', (code) => { resolve(code) }) })
    raw.socket.send('x'.repeat(1024 * 1024 + 1))
    expect(await closed).toBe(1009)
    await gw.logs.logged('the socket\'s line', isSocketLine, { from })
    expect(socketLines(from).map(({ level, msg, code, reason }) => ({ level, msg, code, reason }))).toEqual([
      { level: 30, msg: 'WebSocket closed on a client protocol error', code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', reason: 'Max payload size exceeded' }
    ])
    expect(consoleError).not.toHaveBeenCalled()
    expect(consoleWarn).not.toHaveBeenCalled()
  })

  it('a connection lost under 100 subscriptions: one debug line, no error line, nothing on stderr', async () => {
    gw.emulator.reset()
    let serverSide: Socket | null = null
    const capture = (_request: unknown, socket: Socket): void => { serverSide = socket }
    gw.app.server.on('upgrade', capture)
    const raw = await rawConnection(gw.url)
    gw.app.server.off('upgrade', capture)
    const id = SEED.datasets.indexing
    for (let i = 1; i <= 100; i++) raw.subscribe(String(i), `subscription { datasetStatusChanged(datasetId: "${id}", follow: true) { status progress } }`)
    await when('the first event of each of 100 subscriptions', (listener) => {
      raw.socket.on('message', listener)
      return () => { raw.socket.off('message', listener) }
    }, () => raw.events.size === 100)
    // The connection dies right after the gateway's first write of the next change (a reset mid-burst,
    // which a test cannot time): the other 99 are written into a destroyed socket.
    const socket = serverSide as unknown as Socket
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean
    socket.write = ((...args: unknown[]) => {
      const written = write(...args)
      socket.destroy()
      return written
    }) as Socket['write']
    const from = entries().length
    gw.emulator.advance(3000)
    // The next poll (time moved to its timer) finds the change.
    await pollNow(gw, time, id)
    await gw.logs.logged('connection lost, or an error', (entry) => entry.msg === 'WebSocket connection lost while sending; dropping what was left to send' || Number(entry.level) >= 50, { from })
    await when('the socket to close', (listener) => {
      raw.socket.on('close', listener)
      return () => { raw.socket.off('close', listener) }
    }, () => raw.socket.readyState === WebSocket.CLOSED)
    expect(socketLines(from).map(({ level, msg }) => ({ level, msg }))).toEqual([
      { level: 20, msg: 'WebSocket connection lost while sending; dropping what was left to send' }
    ])
    expect(consoleError).not.toHaveBeenCalled()
  })

  it('refuses the upgrade of another path by closing the socket, with no log line', async () => {
    const from = entries().length
    const socket = new WebSocket(`${gw.url.replace('http', 'ws')}/elsewhere`, 'graphql-transport-ws')
    await new Promise<void>((resolve) => { socket.on('error', () => { resolve() }) })
    expect(socketLines(from)).toEqual([])
  })
})
