import type { IncomingMessage, ServerResponse } from 'node:http'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { buildApp } from '../../../src/app.js'
import { hasRemoteUpstream, loadConfig } from '../../../src/config.js'

/*
 * The gateway under attack, in a process of its own (started by gateway-process.ts with --expose-gc and
 * a bounded heap), so that its heap, sockets and event-loop delay are measured apart from the attacker,
 * the probe and the emulator. Built as a test gateway is (buildApp + loadConfig), from the environment
 * the parent gives it and nothing else; it answers measurement requests over IPC.
 */

export type ChildRequest =
  | { id: number, type: 'measure' }
  | { id: number, type: 'reset-loop' }
  | { id: number, type: 'loop' }
  | { id: number, type: 'close' }
  | { id: number, type: 'settle', connections: number, pollers: number, withinMs: number }
  | { id: number, type: 'redis-up', withinMs: number }
  | { id: number, type: 'webhooks-settled', withinMs: number }
  | { id: number, type: 'webhooks-running' }

/** What is left open: sockets of the HTTP server (upgraded WebSockets included) and pollers of subscriptions. */
export interface Holdings {
  connections: number
  pollers: number
}

export interface Measurement {
  /** V8 heap in use after two full collections, in bytes. */
  heapUsed: number
  /** Memory of Buffers and ArrayBuffers outside the V8 heap (socket write queues...), after the same collections. */
  external: number
  rss: number
  /** Open sockets of the HTTP server, upgraded WebSockets included. */
  connections: number
  /** Pollers running (one per watched resource and credential scope). */
  pollers: number
  /** Event-loop delay since the last reset-loop, in ms. */
  loop: { p99: number, max: number, mean: number }
  /** The probe's requests inside the gateway since the last reset-loop (arrival to answer sent), in ms. */
  probeServer: { count: number, p99: number, max: number }
  /** Whether the command link to Redis is up (null without REDIS_URL). */
  redisUp: boolean | null
  /** The server's own timeouts, in ms (0: none): what a slow client can hold. */
  timeouts: { request: number, headers: number, keepAlive: number, socket: number }
}

export type ChildMessage =
  | { type: 'ready', url: string }
  | { type: 'error', message: string }
  | { id: number, loop?: Measurement['loop'], measurement?: Measurement, holdings?: Holdings & { ms: number }, redisUp?: boolean, settled?: boolean, running?: number, done?: true }

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined || process.send === undefined) throw new Error('run by gateway-process.ts: node --expose-gc with an IPC channel')
const send = (message: ChildMessage): void => { process.send?.(message) }

const config = loadConfig(process.env)
if (!hasRemoteUpstream(config)) throw new Error('the hostile gateway needs VL_BASE_URL (the emulator the test started)')
const app = await buildApp(config)
await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
if (address === null || typeof address === 'string') throw new Error('no port')

const loop = monitorEventLoopDelay({ resolution: 10 })
loop.enable()

/*
 * The probe's requests as the gateway saw them: from the request's arrival (its head read) to its answer
 * handed to the kernel. Set beside the probe's own latency, it tells a wait in the gateway from one outside
 * it (the network, the client's scheduling). The probe's addresses are 127.0.1.<case> (suite.ts).
 */
let probeServerMs: number[] = []
app.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
  if (req.socket.remoteAddress?.startsWith('127.0.1.') !== true) return
  const arrived = performance.now()
  res.once('finish', () => { probeServerMs.push(performance.now() - arrived) })
})

const connections = async (): Promise<number> => await new Promise((resolve, reject) => {
  app.server.getConnections((err, count) => { if (err === null) resolve(count); else reject(err) })
})

/** The event-loop delay since the last reset-loop, in ms. */
function loopDelay (): Measurement['loop'] {
  const ms = (ns: number): number => Math.round(ns / 1e5) / 10
  return { p99: ms(loop.percentile(99)), max: ms(loop.max), mean: ms(loop.mean) }
}

async function measure (): Promise<Measurement> {
  // Read before the collections below, which block this loop: they are the harness's pauses, not the attack's.
  const delay = loopDelay()
  const served = [...probeServerMs].sort((a, b) => a - b)
  const at = (q: number): number => Math.round((served[Math.min(served.length - 1, Math.ceil(q * served.length) - 1)] ?? 0) * 10) / 10
  const probeServer = { count: served.length, p99: at(0.99), max: at(1) }
  // Two full collections, a turn apart, so that what the first one's finalizers freed is gone too.
  gc?.()
  await nextTurn()
  gc?.()
  const memory = process.memoryUsage()
  const server = app.server
  return {
    heapUsed: memory.heapUsed,
    external: memory.external,
    rss: memory.rss,
    connections: await connections(),
    pollers: app.live.size,
    loop: delay,
    probeServer,
    redisUp: app.redis === null ? null : app.redis.up,
    timeouts: { request: server.requestTimeout, headers: server.headersTimeout, keepAlive: server.keepAliveTimeout, socket: server.timeout }
  }
}

/**
 * Resolves once no more than `target` is held, or at the deadline with what is held then. Checked on a
 * short timer here, in the gateway's process: asking over IPC as often would be traffic of its own.
 */
async function settle (target: Holdings, withinMs: number): Promise<Holdings & { ms: number }> {
  const start = performance.now()
  for (;;) {
    const held = { connections: await connections(), pollers: app.live.size }
    const ms = Math.round(performance.now() - start)
    if ((held.connections <= target.connections && held.pollers <= target.pollers) || ms >= withinMs) return { ...held, ms }
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Resolves when the gateway counts on Redis again (connected, and its outage over), or false at the deadline. */
async function redisUp (withinMs: number): Promise<boolean> {
  const link = app.redis
  if (link === null) return false
  const end = performance.now() + withinMs
  if (!await link.connected(withinMs)) return false
  while (!link.up) {
    if (performance.now() > end) return false
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return true
}

/**
 * Resolves once no webhook attempt is running (each attempt's outcome is saved before it stops running),
 * or false at the deadline. Checked on a short timer here, as `settle` is.
 */
async function webhooksSettled (withinMs: number): Promise<boolean> {
  const end = performance.now() + withinMs
  while ((app.webhooks?.running ?? 0) > 0) {
    if (performance.now() > end) return false
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return true
}

process.on('message', (message: ChildRequest) => {
  const answer = async (): Promise<ChildMessage> => {
    if (message.type === 'measure') return { id: message.id, measurement: await measure() }
    if (message.type === 'loop') return { id: message.id, loop: loopDelay() }
    if (message.type === 'settle') return { id: message.id, holdings: await settle(message, message.withinMs) }
    if (message.type === 'redis-up') return { id: message.id, redisUp: await redisUp(message.withinMs) }
    if (message.type === 'webhooks-running') return { id: message.id, running: app.webhooks?.running ?? 0 }
    if (message.type === 'webhooks-settled') return { id: message.id, settled: await webhooksSettled(message.withinMs) }
    if (message.type === 'reset-loop') {
      loop.reset()
      probeServerMs = []
      return { id: message.id, done: true }
    }
    await app.close()
    return { id: message.id, done: true }
  }
  answer().then(send, (err: unknown) => { send({ type: 'error', message: err instanceof Error ? err.message : String(err) }) })
})
// The parent went away: nothing is left to attack.
process.on('disconnect', () => { process.exit(0) })

send({ type: 'ready', url: `http://127.0.0.1:${address.port}` })
