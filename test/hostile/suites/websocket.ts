import { setTimeout as sleep } from 'node:timers/promises'
import { expect } from 'vitest'
import { DEMO_ACCOUNTS, SEED } from '../../../src/emulator/index.js'
import { BAD_ID, BAD_ID_ERRORS, BAD_ID_SUBSCRIPTION, canonical, HEADERS_TOO_LARGE, rawAnswer, tally } from '../harness/answers.js'
import { HOLD_UNREAD_MS, hostileCase } from '../harness/case.js'
import { inWaves, rawSocket, requestHead, within } from '../harness/http.js'
import { defineSuite } from '../harness/suite.js'
import { forgedToken, genuineToken } from '../harness/tokens.js'
import { closeFrameOf, frameHead, initSocket, initSockets, openSocket, operationText, rawUpgrade, subscribeCompleteChurn, type AttackSocket } from '../harness/ws.js'

/*
 * GraphQL over WebSocket (graphql-transport-ws on /graphql). Subscriptions are not rate limited per
 * minute: attacks come with forged tokens of made-up keys (an unproven socket counts against its address,
 * WS_MAX_UNPROVEN_PER_ADDRESS = 100), each socket within the per-connection bounds of issue 22 item 2
 * (WS_SUBSCRIBE_BURST = 100 starts, WS_MESSAGE_BURST = 250 messages) unless the case attacks those.
 */

/** The answer to BAD_ID_SUBSCRIPTION with BAD_ID, at any column (operation names shift it). */
const badIdAnswer = (column = 28): string => `next ${BAD_ID_ERRORS.replace('"column":28', `"column":${column}`)} | complete`

/** Sends `count` subscribes on `socket`, at most `window` unanswered, and returns their answers as text. */
async function operations (socket: AttackSocket, count: number, window: number, signal: AbortSignal, payload: (i: number) => unknown): Promise<string[]> {
  return await inWaves(count, window, signal, async (i) => operationText(await socket.operation(String(i + 1), payload(i))))
}

/** Sends `messages` on a socket whose client does not read, stopping once 4 MB wait in the client (the gateway stopped reading). */
async function flood (socket: AttackSocket, messages: number, message: (i: number) => string, signal: AbortSignal): Promise<number> {
  let sent = 0
  while (sent < messages && !signal.aborted && socket.socket.readyState === socket.socket.OPEN) {
    if (socket.socket.bufferedAmount > 4 * 1024 * 1024) {
      await sleep(10)
      if (socket.socket.bufferedAmount > 4 * 1024 * 1024) break
      continue
    }
    socket.send(message(sent++))
    await sleep(0)
  }
  return sent
}

/** What a client that did not read finds once it reads: the messages, and the close, within `ms`. */
async function readLate (socket: AttackSocket, ms: number): Promise<{ close: { code: number, reason: string } | 'still open', types: string[] }> {
  socket.socket.resume()
  const close = await Promise.race([socket.closed, sleep(ms).then(() => 'still open' as const)])
  return { close, types: [...new Set(socket.messages.map((message) => message.type))] }
}

export const suite = defineSuite({
  name: 'websocket',
  cases: [
    hostileCase({
      door: 'websocket',
      attack: 'large-variables',
      // Messages as large as WS_MAX_MESSAGE_BYTES (128 KiB) lets: larger ones are refused unread (websocket × slow-bodies).
      name: '30 sockets × 16 subscribe messages with 120 KB of variables never sent before (each socket within WS_RECEIVED_BYTES_BURST)',
      guards: ['issue 22 item 1'],
      memoryGrowthMb: 16,
      run: async ({ url, address, signal, hold }) => {
        const pad = 'v'.repeat(120 * 1024)
        const sockets = await initSockets(url, address, 30, () => forgedToken())
        hold(() => { for (const socket of sockets) socket.socket.terminate() })
        const answers = await inWaves(30, 2, signal, async (s) => {
          const socket = sockets[s] as AttackSocket
          return await operations(socket, 16, 1, signal, (i) => ({ query: BAD_ID_SUBSCRIPTION, variables: { id: BAD_ID, pad: `${s}:${i}:${pad}` } }))
        })
        return answers.flat()
      },
      answers: (answers) => { expect(tally(answers)).toEqual({ [badIdAnswer()]: 480 }) },
      upstream: 0
    }),
    hostileCase({
      door: 'websocket',
      attack: 'many-unique-variables',
      name: '4 sockets × 100 subscribe messages, each with variables never sent before',
      run: async ({ url, address, signal }) => {
        const sockets = await initSockets(url, address, 4, () => forgedToken())
        const answers = await Promise.all(sockets.map(async (socket, s) => await operations(socket, 100, 10, signal, (i) => ({
          query: BAD_ID_SUBSCRIPTION,
          variables: { id: BAD_ID, n: `${s}:${i}`, note: 'u'.repeat(200) }
        }))))
        for (const socket of sockets) socket.socket.close()
        return answers.flat()
      },
      answers: (answers) => { expect(tally(answers)).toEqual({ [badIdAnswer()]: 400 }) },
      upstream: 0
    }),
    hostileCase({
      door: 'websocket',
      attack: 'large-documents',
      // Messages as large as WS_MAX_MESSAGE_BYTES (128 KiB) lets: larger ones are refused unread (websocket × slow-bodies).
      name: '30 sockets × 16 subscribe messages with documents never sent before, 120 KB each (a comment)',
      run: async ({ url, address, signal, hold }) => {
        const pad = 'c'.repeat(120 * 1024)
        const sockets = await initSockets(url, address, 30, () => forgedToken())
        hold(() => { for (const socket of sockets) socket.socket.terminate() })
        const answers = await inWaves(30, 2, signal, async (s) => {
          const socket = sockets[s] as AttackSocket
          return await operations(socket, 16, 1, signal, (i) => ({ query: `${BAD_ID_SUBSCRIPTION} # ${s}:${i} ${pad}`, variables: { id: BAD_ID } }))
        })
        return answers.flat()
      },
      answers: (answers) => { expect(tally(answers)).toEqual({ [badIdAnswer()]: 480 }) },
      upstream: 0
    }),
    hostileCase({
      door: 'websocket',
      attack: 'many-unique-documents',
      name: '4 sockets × 100 subscribe messages, each a document never sent before (subscription S<n>)',
      guards: ['a burst of new documents was read back to back (one read per turn of the event loop now, callers in turn)'],
      run: async ({ url, address, signal }) => {
        const sockets = await initSockets(url, address, 4, () => forgedToken())
        const answers = await Promise.all(sockets.map(async (socket, s) => await operations(socket, 100, 10, signal, (i) => ({
          query: BAD_ID_SUBSCRIPTION.replace('subscription S(', `subscription S${s}x${i}(`),
          variables: { id: BAD_ID }
        }))))
        for (const socket of sockets) socket.socket.close()
        return answers.flat()
      },
      answers: (answers) => {
        const expected: Record<string, number> = {}
        for (let s = 0; s < 4; s++) {
          for (let i = 0; i < 100; i++) {
            const answer = badIdAnswer(28 + `${s}x${i}`.length)
            expected[answer] = (expected[answer] ?? 0) + 1
          }
        }
        expect(tally(answers)).toEqual(expected)
      },
      upstream: 0
    }),
    hostileCase({
      door: 'websocket',
      attack: 'large-headers',
      name: '100 upgrade requests with a 20 KB header (over Node\'s 16 KB for all headers)',
      run: async ({ url, address, signal }) => await inWaves(100, 8, signal, async () => {
        const raw = await rawSocket(url, address)
        raw.socket.write(requestHead('GET', '/graphql', {
          connection: 'Upgrade',
          upgrade: 'websocket',
          'sec-websocket-version': '13',
          'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
          'sec-websocket-protocol': 'graphql-transport-ws',
          'x-padding': 'p'.repeat(20 * 1024)
        }))
        await raw.closed
        return rawAnswer(raw.received())
      }),
      answers: (answers) => { expect(tally(answers)).toEqual({ [HEADERS_TOO_LARGE]: 100 }) },
      upstream: 0
    }),
    hostileCase({
      door: 'websocket',
      attack: 'large-frames',
      name: '10 sockets that each send one 2 MB message (over WS_MAX_MESSAGE_BYTES) after connection_init',
      run: async ({ url, address }) => {
        const sockets = await initSockets(url, address, 10, () => forgedToken())
        return await Promise.all(sockets.map(async (socket) => {
          socket.send(`{"type":"ping","payload":{"p":"${'f'.repeat(2 * 1024 * 1024)}"}}`)
          return await within(socket.closed, 5_000, 'the close of a socket that sent 2 MB')
        }))
      },
      answers: (closes) => { expect(tally(closes.map((close) => `${close.code} ${close.reason}`))).toEqual({ '1009 Message too large: at most 131072 bytes. Send a smaller document, or fewer variables.': 10 }) },
      upstream: 0
    }),
    hostileCase({
      door: 'websocket',
      attack: 'pings',
      name: 'one socket that never reads sends 100 pings with 1 MB payloads after connection_init',
      guards: ['issue 22 item 2'],
      run: async ({ url, address, signal, hold }) => {
        const socket = await initSocket(url, address, forgedToken(), { read: false })
        hold(() => { socket.socket.terminate() })
        const payload = 'p'.repeat(1000 * 1024)
        const sent = await flood(socket, 100, (i) => `{"type":"ping","payload":{"p":"${i}:${payload}"}}`, signal)
        await sleep(HOLD_UNREAD_MS)
        return { socket, sent }
      },
      answers: async ({ socket }) => {
        expect(await readLate(socket, 3_000)).toEqual({
          // Refused from the frame's header, over WS_MAX_MESSAGE_BYTES, before its payload is read as a ping.
          close: { code: 1009, reason: 'Message too large: at most 131072 bytes. Send a smaller document, or fewer variables.' },
          types: ['connection_ack']
        })
      },
      upstream: 0
    }),
    hostileCase({
      door: 'websocket',
      attack: 'pings',
      name: '15 sockets that never read send 5 pings with 1 MB payloads each, before connection_init, with no token',
      guards: ['issue 22 item 2'],
      run: async ({ url, address, signal, hold }) => {
        const sockets = await Promise.all(Array.from({ length: 15 }, async () => await openSocket(url, address, { read: false })))
        // (15: within WS_MAX_PENDING_PER_ADDRESS, so that each is a socket the gateway keeps.)
        hold(() => { for (const socket of sockets) socket.socket.terminate() })
        const payload = 'p'.repeat(1000 * 1024)
        await Promise.all(sockets.map(async (socket) => await flood(socket, 5, (i) => `{"type":"ping","payload":{"p":"${i}:${payload}"}}`, signal)))
        await sleep(HOLD_UNREAD_MS)
        return sockets
      },
      answers: async (sockets) => {
        const found = await Promise.all(sockets.map(async (socket) => JSON.stringify(await readLate(socket, 3_000))))
        expect(tally(found)).toEqual({
          [JSON.stringify({ close: { code: 1009, reason: 'Too much sent before connection_ack: at most 16384 bytes. Send connection_init first, and wait for its ack.' }, types: [] })]: 15
        })
      },
      upstream: 0
    }),
    hostileCase({
      door: 'websocket',
      attack: 'slow-bodies',
      name: '20 sockets that start a 1 MB message before connection_init and send 20 KB of it, slowly',
      guards: ['issue 22 item 2'],
      run: async ({ url, address, signal, hold }) => {
        const sockets = await Promise.all(Array.from({ length: 20 }, async () => await rawUpgrade(url, address)))
        hold(() => { for (const raw of sockets) raw.socket.destroy() })
        const frames = sockets.map(() => frameHead(1024 * 1024))
        sockets.forEach((raw, i) => { raw.socket.write(frames[i]?.head ?? Buffer.alloc(0)) })
        const chunk = Buffer.alloc(1024, 'a')
        for (let k = 0; k < 20 && !signal.aborted; k++) {
          sockets.forEach((raw, i) => { if (!raw.socket.destroyed) raw.socket.write(frames[i]?.mask(chunk, k * 1024) ?? chunk) })
          await sleep(20)
        }
        // The gateway's close frames, if it sends them, come at once.
        await Promise.race([Promise.all(sockets.map(async (raw) => await new Promise<void>((resolve) => {
          const check = (): void => { if (closeFrameOf(raw.received()) !== null) resolve() }
          raw.socket.on('data', check)
          check()
        }))), sleep(1_000)])
        return sockets.map((raw) => closeFrameOf(raw.received()))
      },
      answers: (closes) => {
        expect(tally(closes.map((close) => JSON.stringify(close)))).toEqual({
          [JSON.stringify({ code: 1009, reason: 'Too much sent before connection_ack: at most 16384 bytes. Send connection_init first, and wait for its ack.' })]: 20
        })
      },
      upstream: 0
    }),
    hostileCase({
      door: 'websocket',
      attack: 'slow-bodies',
      name: '40 sockets that, after connection_ack, start a 1 MB message (over WS_MAX_MESSAGE_BYTES) and send 1,000 KB of it',
      guards: ['a WebSocket message started and never finished held up to 1 MiB a socket: WS_MAX_MESSAGE_BYTES'],
      run: async ({ url, address, signal, hold }) => {
        const sockets = await inWaves(40, 10, signal, async () => {
          const raw = await rawUpgrade(url, address)
          const init = Buffer.from(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${forgedToken()}` } }))
          const { head, mask } = frameHead(init.length)
          raw.socket.write(Buffer.concat([head, mask(init)]))
          await within(new Promise<void>((resolve) => {
            const check = (): void => { if (raw.received().includes('connection_ack')) resolve() }
            raw.socket.on('data', check)
            check()
          }), 5_000, 'connection_ack')
          return raw
        })
        hold(() => { for (const raw of sockets) raw.socket.destroy() })
        const body = Buffer.alloc(1000 * 1024, 'a')
        for (const raw of sockets) {
          if (signal.aborted) break
          const { head, mask } = frameHead(1024 * 1024)
          raw.socket.write(Buffer.concat([head, mask(body)]))
          await sleep(5)
        }
        // ws refuses the frame from its header, before reading its payload: each close frame comes at once.
        await within(Promise.all(sockets.map(async (raw) => await new Promise<void>((resolve) => {
          const check = (): void => { if (closeFrameOf(raw.received()) !== null) resolve() }
          raw.socket.on('data', check)
          check()
        }))), 5_000, 'the 40 close frames')
        return sockets.map((raw) => closeFrameOf(raw.received()))
      },
      answers: (closes) => { expect(tally(closes.map((close) => JSON.stringify(close)))).toEqual({ [JSON.stringify({ code: 1009, reason: 'Message too large: at most 131072 bytes. Send a smaller document, or fewer variables.' })]: 40 }) },
      upstream: 0
    }),
    hostileCase({
      door: 'websocket',
      attack: 'slow-readers',
      name: '3 sockets that never read each start 15 operations whose refusal echoes a 100 KB alias (1.5 MB of answers each, as much as WS_RECEIVED_BYTES_BURST lets it ask)',
      // What the kernel does not hold (about 4 MB a loopback socket) waits in the gateway, at most WS_MAX_BUFFERED_BYTES a socket.
      memoryGrowthMb: 8,
      run: async ({ url, address, signal, hold }) => {
        const sockets = await initSockets(url, address, 3, () => forgedToken(), { read: false })
        hold(() => { for (const socket of sockets) socket.socket.terminate() })
        const alias = 'a'.repeat(100 * 1024)
        await Promise.all(sockets.map(async (socket, s) => await flood(socket, 15, (i) => JSON.stringify({
          id: `${s}:${i}`,
          type: 'subscribe',
          payload: { query: BAD_ID_SUBSCRIPTION.replace('datasetStatusChanged(', `${alias}${i}: datasetStatusChanged(`), variables: { id: BAD_ID } }
        }), signal)))
        await sleep(HOLD_UNREAD_MS)
        return sockets
      },
      answers: async (sockets) => {
        // Reading at last, each finds every answer, on a socket still open: within the bounds, nothing was dropped.
        const found = await Promise.all(sockets.map(async (socket) => {
          socket.socket.resume()
          await within(socket.received(31), 5_000, 'the 15 answers')
          return `${socket.messages.filter((message) => message.type === 'next').length} next, ${socket.socket.readyState === socket.socket.OPEN ? 'open' : 'closed'}`
        }))
        expect(tally(found)).toEqual({ '15 next, open': 3 })
      },
      upstream: 0
    }),
    hostileCase({
      door: 'websocket',
      attack: 'open-close-churn',
      name: '300 sockets opened, acknowledged and closed, 10 at a time; then 100 at once from the same address',
      run: async ({ url, address, signal }) => {
        const churned = await inWaves(300, 10, signal, async () => {
          const socket = await initSocket(url, address, forgedToken())
          socket.socket.close(1000)
          return socket.messages[0]?.type ?? 'none'
        })
        // Held open together (WS_MAX_UNPROVEN_PER_ADDRESS of them).
        const together = await initSockets(url, address, 100, () => forgedToken())
        for (const socket of together) socket.socket.close(1000)
        return { churned, together: together.map((socket) => socket.messages[0]?.type ?? 'none') }
      },
      answers: ({ churned, together }) => {
        expect(tally(churned)).toEqual({ connection_ack: 300 })
        // Every slot of the churned sockets was given back: a full address' worth of new ones fits.
        expect(tally(together)).toEqual({ connection_ack: 100 })
      },
      upstream: 0
    }),
    hostileCase({
      door: 'websocket',
      attack: 'subscribe-complete-churn',
      name: 'one socket sends subscribe and complete pairs for a live dataset as fast as it can (at most 20,000 pairs)',
      guards: ['issue 22 item 7'],
      run: async ({ url, address, signal, account }) => {
        const socket = await initSocket(url, address, account)
        const query = `subscription { datasetStatusChanged(datasetId: "${SEED.datasets.ready}", follow: true) { id status } }`
        return await subscribeCompleteChurn(socket, query, signal)
      },
      answers: ({ close }) => {
        expect(close).toEqual({ code: 1008, reason: 'Too many messages on this connection: at most 100 a second, after a burst of 250.' })
      },
      upstream: { atMost: 5 }
    }),
    hostileCase({
      door: 'websocket',
      attack: 'forged-tokens',
      name: '50 sockets from one address, each with a forged token never seen before, subscribe to a dataset; then a new genuine token from that address',
      run: async ({ url, address, hold }) => {
        const query = `subscription { datasetStatusChanged(datasetId: "${SEED.datasets.ready}") { id status } }`
        const sockets = await initSockets(url, address, 50, () => forgedToken())
        hold(() => { for (const socket of sockets) socket.socket.terminate() })
        const forged = await Promise.all(sockets.map(async (socket) => operationText(await socket.operation('1', { query }))))
        const genuine = await initSocket(url, address, genuineToken(DEMO_ACCOUNTS.primary))
        const answer = operationText(await genuine.operation('1', { query }))
        genuine.socket.close()
        return { forged, answer }
      },
      answers: ({ forged, answer }) => {
        expect(tally(forged)).toEqual({
          [`error ${canonical([{ message: 'Visual Layer refused your token: Invalid token: unknown API key in kid. Sign a fresh Visual Layer JWT and try again.', extensions: { code: 'UNAUTHENTICATED', requestId: '<id>', upstream: { status: 401 } } }])}`]: 50
        })
        expect(answer).toBe(`next ${canonical({ data: { datasetStatusChanged: { id: SEED.datasets.ready, status: 'READY' } } })} | complete`)
      },
      upstream: (calls) => {
        expect(tally(calls.map((call) => `${call.method} ${call.path} ${call.status}`))).toEqual({
          [`GET /api/v1/dataset/${SEED.datasets.ready} 401`]: 50,
          [`GET /api/v1/dataset/${SEED.datasets.ready} 200`]: 1
        })
      }
    })
  ]
})
