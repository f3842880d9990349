import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { expect } from 'vitest'
import { DEMO_ACCOUNTS, SEED } from '../../../src/emulator/index.js'
import { tally } from '../harness/answers.js'
import { hostileCase, type AttackContext } from '../harness/case.js'
import type { HttpFrom } from '../harness/http.js'
import { inWaves, within } from '../harness/http.js'
import { defineSuite } from '../harness/suite.js'

/*
 * Webhooks for partner services: the registration routes under /v1/webhooks (the rest door's, with the
 * webhook door's own bounds: WEBHOOKS_MAX_PER_CALLER, WEBHOOKS_MAX_PENDING) and the deliveries, where the
 * attacker is the receiver: one that never answers, answers without end, with headers over undici's
 * limit, a byte at a time, or resets the connection. The gateway holds the service account (webhooks run
 * in `jwt` and `none` modes; `none` here: every caller is the service's, one owner for the whole file),
 * so each case deletes the webhooks it registered. Receivers listen on loopback, allowed as a target here.
 */

const json = { 'content-type': 'application/json' }
/** The attempt's deadline, short so that an attack that holds attempts ends within its case. */
const ATTEMPT_TIMEOUT_MS = 500
const MAX_PENDING = 100
const MAX_PER_CALLER = 20

/** An HTTP server of the attacker's that gets the gateway's deliveries and does `behave` with each. */
class HostileReceiver {
  received = 0
  /** Requests whose exchange has ended (answered, cut by the gateway, or reset). */
  ended = 0
  open = 0
  maxOpen = 0
  /** Bytes of answers the receiver wrote (or tried to) before the gateway went away. */
  written = 0
  url = ''
  private readonly server

  constructor (behave: (req: IncomingMessage, res: ServerResponse, receiver: HostileReceiver) => void) {
    this.server = createServer((req, res) => {
      this.received++
      this.maxOpen = Math.max(this.maxOpen, ++this.open)
      res.once('close', () => { this.open--; this.ended++; this.server.emit('ended') })
      req.resume()
      req.once('end', () => { behave(req, res, this) })
    })
  }

  static async start (behave: (req: IncomingMessage, res: ServerResponse, receiver: HostileReceiver) => void): Promise<HostileReceiver> {
    const receiver = new HostileReceiver(behave)
    receiver.server.listen(0, '127.0.0.1')
    await once(receiver.server, 'listening')
    receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}/hook`
    return receiver
  }

  /** Resolves once `count` exchanges have ended, at most `ms` later. */
  async endedAll (count: number, ms: number): Promise<void> {
    await within(new Promise<void>((resolve) => {
      const check = (): void => { if (this.ended >= count) { this.server.off('ended', check); resolve() } }
      this.server.on('ended', check)
      check()
    }), ms, `${count} deliveries ended at ${this.url} (${this.ended} so far)`)
  }

  async close (): Promise<void> {
    this.server.closeAllConnections()
    this.server.close()
    await once(this.server, 'close')
  }
}

/** Writes 64 KB chunks for as long as the socket drains them, until the exchange ends. */
function endlessBody (res: ServerResponse, receiver: HostileReceiver): void {
  const chunk = Buffer.alloc(64 * 1024, 'x')
  res.writeHead(200, { 'content-type': 'text/plain' })
  const write = (): void => {
    while (!res.destroyed) {
      receiver.written += chunk.length
      if (!res.write(chunk)) { res.once('drain', write); return }
    }
  }
  write()
}

/** Registers a webhook on one dataset, or (`datasetIds` null) on every dataset of the account. */
async function register (
  http: HttpFrom, url: string, target: string, description?: string, datasetIds: string[] | null = [SEED.datasets.ready]
): Promise<{ status: number, id?: string, text: string }> {
  const answer = await http.send(`${url}/v1/webhooks`, {
    method: 'POST', headers: json, body: JSON.stringify({ url: target, events: ['dataset.ready'], datasetIds, ...(description === undefined ? {} : { description }) })
  })
  return { status: answer.status, id: answer.status === 201 ? (JSON.parse(answer.text) as { id: string }).id : undefined, text: answer.text }
}

// With a JSON content type (and no body), as the gateway's protection against cross-site requests asks of a POST.
const ping = async (http: HttpFrom, url: string, id: string): Promise<number> => (await http.send(`${url}/v1/webhooks/${id}/test`, { method: 'POST', headers: json })).status
const remove = async (http: HttpFrom, url: string, id: string): Promise<number> => (await http.send(`${url}/v1/webhooks/${id}`, { method: 'DELETE' })).status

/** Each delivery in the webhook's log as `state attempts statusCode error responseBytes`. */
async function log (http: HttpFrom, url: string, id: string): Promise<string[]> {
  const answer = await http.send(`${url}/v1/webhooks/${id}/deliveries`)
  const nodes = (JSON.parse(answer.text) as { nodes: Array<{ state: string, attempts: Array<{ statusCode: number | null, error: string | null, responseBody: string | null }> }> }).nodes
  return nodes.map(({ state, attempts }) => {
    const last = attempts.at(-1)
    return `${state} ${attempts.length} ${last?.statusCode ?? '-'} ${last?.error ?? '-'} ${last?.responseBody?.length ?? 0}`
  })
}

interface ReceiverAttack {
  statuses: string[]
  receivers: Array<{ received: number, maxOpen: number, written: number }>
  logs: string[]
}

/**
 * Registers `receivers` webhooks, each to a hostile receiver of its own, asks each for `pings` deliveries,
 * waits until every exchange ended (the gateway's deadline ends the held ones), reads their logs and deletes them.
 */
async function attackFromReceivers (
  { url, http, hold, gateway }: AttackContext, receivers: number, pings: number, behave: (req: IncomingMessage, res: ServerResponse, receiver: HostileReceiver) => void
): Promise<ReceiverAttack> {
  const started = await Promise.all(Array.from({ length: receivers }, async () => await HostileReceiver.start(behave)))
  hold(async () => { await Promise.all(started.map(async (receiver) => { await receiver.close() })) })
  const statuses: string[] = []
  const ids: string[] = []
  for (const receiver of started) {
    const registered = await register(http, url, receiver.url)
    statuses.push(`register ${registered.status}`)
    if (registered.id !== undefined) ids.push(registered.id)
  }
  let logs: string[] = []
  try {
    const pinged = await Promise.all(ids.map(async (id) => await inWaves(pings, 4, AbortSignal.timeout(10_000), async () => await ping(http, url, id))))
    statuses.push(...pinged.flat().map((status) => `ping ${status}`))
    await Promise.all(started.map(async (receiver) => { await receiver.endedAll(pings, 10 * ATTEMPT_TIMEOUT_MS * Math.ceil(pings / 4)) }))
    // Every attempt has reached its receiver; each outcome is saved before its attempt stops running.
    if (!await gateway.webhooksSettled(5_000)) throw new Error('webhook attempts still running 5 s after their receivers saw them end')
    logs = (await Promise.all(ids.map(async (id) => await log(http, url, id)))).flat()
  } finally {
    // Deleted whatever happened: the next cases count the caller's webhooks and the pending deliveries from none.
    for (const id of ids) statuses.push(`delete ${await remove(http, url, id)}`)
  }
  return { statuses, receivers: started.map(({ received, maxOpen, written }) => ({ received, maxOpen, written })), logs }
}

export const suite = defineSuite({
  name: 'webhooks',
  env: {
    AUTH_MODE: 'none',
    VL_API_KEY: DEMO_ACCOUNTS.primary.apiKey,
    VL_API_SECRET: DEMO_ACCOUNTS.primary.apiSecret,
    WEBHOOKS_ALLOW_PRIVATE_TARGETS: '127.0.0.1',
    WEBHOOKS_ATTEMPT_TIMEOUT_MS: String(ATTEMPT_TIMEOUT_MS),
    // A failed attempt is retried an hour later: after the file, so that each case's attempts are its own.
    WEBHOOKS_RETRY_SCHEDULE: '1h',
    WEBHOOKS_MAX_PENDING: String(MAX_PENDING),
    // The cases count the webhook door's own bounds; the allowance of writes is the rest door's (rest.ts holds it).
    RATE_LIMIT_MUTATIONS_PER_MINUTE: '100000'
  },
  cases: [
    hostileCase({
      door: 'webhooks',
      attack: 'slow-readers',
      name: '4 receivers that read each delivery and never answer, 8 pings each',
      run: async (ctx) => await attackFromReceivers(ctx, 4, 8, () => {}),
      answers: ({ statuses, receivers, logs }) => {
        expect(tally(statuses)).toEqual({ 'register 201': 4, 'ping 202': 32, 'delete 204': 4 })
        // WEBHOOKS_MAX_IN_FLIGHT_PER_TARGET (4) at a time to each, every attempt cut at its deadline.
        expect(receivers.map(({ received, maxOpen }) => [received, maxOpen])).toEqual([[8, 4], [8, 4], [8, 4], [8, 4]])
        expect(tally(logs)).toEqual({ 'pending 1 - no answer before the attempt\'s deadline (WEBHOOKS_ATTEMPT_TIMEOUT_MS) 0': 32 })
      },
      upstream: { atMost: 12 }
    }),
    hostileCase({
      door: 'webhooks',
      attack: 'large-frames',
      name: '2 receivers that answer each of 10 deliveries with a body without end',
      run: async (ctx) => await attackFromReceivers(ctx, 2, 10, (_req, res, receiver) => { endlessBody(res, receiver) }),
      answers: ({ statuses, receivers, logs }) => {
        expect(tally(statuses)).toEqual({ 'register 201': 2, 'ping 202': 20, 'delete 204': 2 })
        // WEBHOOKS_MAX_RESPONSE_BYTES (1,024) read, then the connection closed: what the receiver got out is what the sockets buffered.
        expect(receivers.map(({ received }) => received)).toEqual([10, 10])
        for (const { written } of receivers) expect(written).toBeLessThan(10 * 8 * 1024 * 1024)
        expect(tally(logs)).toEqual({ 'delivered 1 200 - 1024': 20 })
      },
      upstream: { atMost: 6 }
    }),
    hostileCase({
      door: 'webhooks',
      attack: 'large-headers',
      name: '2 receivers that answer each of 10 deliveries with 400 headers of 100 bytes (40 KB, over undici\'s 16 KB)',
      run: async (ctx) => await attackFromReceivers(ctx, 2, 10, (_req, res) => {
        for (let i = 0; i < 400; i++) res.setHeader(`x-h${i}`, 'h'.repeat(100))
        res.end('ok')
      }),
      answers: ({ statuses, receivers, logs }) => {
        expect(tally(statuses)).toEqual({ 'register 201': 2, 'ping 202': 20, 'delete 204': 2 })
        expect(receivers.map(({ received }) => received)).toEqual([10, 10])
        expect(tally(logs)).toEqual({ 'pending 1 - network error UND_ERR_HEADERS_OVERFLOW: Headers Overflow Error 0': 20 })
      },
      upstream: { atMost: 6 }
    }),
    hostileCase({
      door: 'webhooks',
      attack: 'slow-bodies',
      name: '2 receivers that answer each of 10 deliveries a byte of their head every 20 ms, never finishing it',
      run: async (ctx) => await attackFromReceivers(ctx, 2, 10, (_req, res) => {
        const socket = res.socket
        if (socket === null) return
        socket.write('HTTP/1.1 200 OK\r\nx-drip: ')
        const timer = setInterval(() => { if (!socket.destroyed) socket.write('d') }, 20)
        socket.once('close', () => { clearInterval(timer) })
      }),
      answers: ({ statuses, receivers, logs }) => {
        expect(tally(statuses)).toEqual({ 'register 201': 2, 'ping 202': 20, 'delete 204': 2 })
        expect(receivers.map(({ received, maxOpen }) => [received, maxOpen])).toEqual([[10, 4], [10, 4]])
        expect(tally(logs)).toEqual({ 'pending 1 - no answer before the attempt\'s deadline (WEBHOOKS_ATTEMPT_TIMEOUT_MS) 0': 20 })
      },
      upstream: { atMost: 6 }
    }),
    hostileCase({
      door: 'webhooks',
      attack: 'open-close-churn',
      name: '2 receivers that reset the connection of each of 20 deliveries as it arrives',
      run: async (ctx) => await attackFromReceivers(ctx, 2, 20, (_req, res) => { res.socket?.resetAndDestroy() }),
      answers: ({ statuses, receivers, logs }) => {
        expect(tally(statuses)).toEqual({ 'register 201': 2, 'ping 202': 40, 'delete 204': 2 })
        expect(receivers.map(({ received }) => received)).toEqual([20, 20])
        // Node words a reset by when it came ("read ECONNRESET", or "other side closed"): the code is the answer.
        expect(tally(logs.map((line) => line.replace(/^(pending 1 - network error ECONNRESET): .* 0$/, '$1 0')))).toEqual({ 'pending 1 - network error ECONNRESET 0': 40 })
      },
      upstream: { atMost: 6 }
    }),
    hostileCase({
      door: 'webhooks',
      attack: 'pings',
      name: '300 test pings of one webhook whose receiver never answers, past WEBHOOKS_MAX_PENDING (100)',
      run: async ({ url, http, signal, hold }) => {
        const receiver = await HostileReceiver.start(() => {})
        hold(async () => { await receiver.close() })
        const { id } = await register(http, url, receiver.url)
        if (id === undefined) throw new Error('not registered')
        const statuses = await inWaves(300, 8, signal, async () => await ping(http, url, id))
        return { statuses, deleted: await remove(http, url, id) }
      },
      answers: ({ statuses, deleted }) => {
        expect([tally(statuses.map(String)), deleted]).toEqual([{ 202: MAX_PENDING, 429: 300 - MAX_PENDING }, 204])
      },
      // The webhook's dataset and task polls while it is registered (two calls a poll): as for the cases above,
      // three polls for an attack that a busy machine stretches to its time bound; the pings cost none.
      upstream: { atMost: 6 }
    }),
    hostileCase({
      door: 'webhooks',
      attack: 'many-unique-documents',
      name: '100 registrations, each a body never sent before (a description of its own), past WEBHOOKS_MAX_PER_CALLER (20)',
      run: async ({ url, http, signal }) => {
        const answers = await inWaves(100, 4, signal, async (i) => await register(http, url, 'http://127.0.0.1:9/hook', `webhook ${i} ${'d'.repeat(i)}`))
        const ids = answers.flatMap(({ id }) => id === undefined ? [] : [id])
        const deleted = await Promise.all(ids.map(async (id) => await remove(http, url, id)))
        return { statuses: answers.map(({ status }) => status), deleted }
      },
      answers: ({ statuses, deleted }) => {
        expect(tally(statuses.map(String))).toEqual({ 201: MAX_PER_CALLER, 429: 100 - MAX_PER_CALLER })
        expect(tally(deleted.map(String))).toEqual({ 204: MAX_PER_CALLER })
      },
      upstream: { atMost: 104 }
    }),
    hostileCase({
      door: 'webhooks',
      attack: 'many-unique-variables',
      name: '200 registrations, each following a dataset id never sent before',
      run: async ({ url, http, signal }) => {
        const answers = await inWaves(200, 4, signal, async (i) => await http.send(`${url}/v1/webhooks`, {
          method: 'POST', headers: json, body: JSON.stringify({ url: 'http://127.0.0.1:9/hook', events: ['dataset.ready'], datasetIds: [`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`] })
        }))
        return answers.map(({ status }) => status)
      },
      answers: (statuses) => { expect(tally(statuses.map(String))).toEqual({ 400: 200 }) },
      upstream: { atMost: 200 }
    }),
    hostileCase({
      door: 'webhooks',
      attack: 'large-documents',
      name: '30 registrations with a 900 KB body never sent before (a description too long)',
      run: async ({ url, http, signal }) => {
        const pad = 'd'.repeat(900 * 1024)
        const answers = await inWaves(30, 1, signal, async (i) => await register(http, url, 'http://127.0.0.1:9/hook', `${i}${pad}`))
        return answers.map(({ status, text }) => `${status} ${JSON.parse(text).detail as string}`)
      },
      answers: (answers) => { expect(tally(answers)).toEqual({ '400 Body field description must be at most 500 characters long.': 30 }) },
      upstream: 0
    }),
    hostileCase({
      door: 'webhooks',
      attack: 'subscribe-complete-churn',
      name: '100 webhooks registered and deleted as fast as one caller can, each following a dataset',
      run: async ({ url, http, signal }) => {
        const statuses: number[] = []
        await inWaves(100, 4, signal, async () => {
          const { status, id } = await register(http, url, 'http://127.0.0.1:9/hook')
          statuses.push(status)
          if (id !== undefined) statuses.push(await remove(http, url, id))
        })
        return statuses
      },
      answers: (statuses) => { expect(tally(statuses.map(String))).toEqual({ 201: 100, 204: 100 }) },
      upstream: { atMost: 110 }
    }),
    hostileCase({
      door: 'webhooks',
      attack: 'subscribe-complete-churn',
      name: '100 webhooks on every dataset of the account registered and deleted as fast as one caller can (each starts and stops the account\'s list pollers)',
      run: async ({ url, http, signal }) => {
        const statuses: number[] = []
        await inWaves(100, 4, signal, async () => {
          const { status, id } = await register(http, url, 'http://127.0.0.1:9/hook', undefined, null)
          statuses.push(status)
          if (id !== undefined) statuses.push(await remove(http, url, id))
        })
        return statuses
      },
      answers: (statuses) => { expect(tally(statuses.map(String))).toEqual({ 201: 100, 204: 100 }) },
      // No dataset is read to register one; each start of the two pollers polls both lists once at most.
      upstream: { atMost: 200 }
    })
  ]
})
