import type { IncomingMessage } from 'node:http'
import type { FastifyBaseLogger } from 'fastify'
import type { WebSocket } from 'ws'
import { callerKey, type Auth, type Caller } from '../../auth/index.js'
import { CallerSlots, ClusterSlots, type SharedSlots } from '../caller-slots.js'
import { clientAddress, type TrustFunction } from '../client-address.js'
import { closeReason } from './close-reason.js'

/*
 * Which sockets the WebSocket door keeps, counted three ways so that no one class of socket can crowd
 * out another: before connection_init (pending, per address and in all), with a passthrough token
 * Visual Layer has not accepted yet (unproven, per address, moved to the account as soon as it is
 * accepted), and per caller (across the replicas with REDIS_URL; the first two are each replica's own
 * business). Each refusal closes the socket with a code and a reason.
 */

export interface AdmissionLimits {
  maxConnectionsPerCaller: number
  /** Sockets that have not sent connection_init yet, per client address and in all. */
  maxPendingPerAddress: number
  maxPending: number
  /** Passthrough sockets whose token Visual Layer has not accepted yet, per client address. */
  maxUnprovenPerAddress: number
  trustProxy: TrustFunction
}

/** The slot a socket holds: which pool, under which key (it moves when its token is proven); the key is the caller's lane. */
export interface Slot { pool: CallerSlots | ClusterSlots, key: string }

interface Waiting { socket: WebSocket, caller: Caller, address: string, slot: Slot }

export class SocketAdmission {
  private readonly connections: ClusterSlots
  private readonly unproven: CallerSlots
  private readonly pending: CallerSlots
  private pendingTotal = 0
  /** Ends a socket's pending state (connection_init received, or closed); once per socket. */
  private readonly pendingEnds = new WeakMap<WebSocket, () => void>()
  /** Open sockets of unproven passthrough tokens, by fingerprint: moved to their account once Visual Layer accepts the token. */
  private readonly waitingForProof = new Map<string, Set<Waiting>>()
  private readonly stopListening: () => void

  constructor (private readonly auth: Auth, private readonly limits: AdmissionLimits, shared: SharedSlots | null, private readonly log: FastifyBaseLogger) {
    this.connections = new ClusterSlots(limits.maxConnectionsPerCaller, shared, log)
    this.unproven = new CallerSlots(limits.maxUnprovenPerAddress)
    this.pending = new CallerSlots(limits.maxPendingPerAddress)
    this.stopListening = auth.scopes.onAccepted((fingerprint) => {
      const sockets = this.waitingForProof.get(fingerprint)
      if (sockets === undefined) return
      this.waitingForProof.delete(fingerprint)
      for (const entry of sockets) {
        this.moveToAccount(entry).catch((err: unknown) => { log.error({ err }, 'unexpected error counting a WebSocket connection against its account') })
      }
    })
  }

  /** A socket just upgraded: counted as pending until connection_init, or closed when too many wait. */
  upgraded (socket: WebSocket, request: IncomingMessage): boolean {
    // Sockets before connection_init cost memory and a timer and prove nothing: capped per address and in all.
    const address = clientAddress(request, this.limits.trustProxy)
    if (this.pendingTotal >= this.limits.maxPending) {
      socket.close(1013, 'The gateway holds too many WebSocket connections waiting for connection_init; try again shortly.')
      return false
    }
    if (!this.pending.take(address)) {
      socket.close(1008, closeReason(`Too many WebSocket connections from your address waiting for connection_init: at most ${this.limits.maxPendingPerAddress}.`))
      return false
    }
    this.pendingTotal++
    let ended = false
    const end = (): void => {
      if (ended) return
      ended = true
      this.pendingTotal--
      this.pending.release(address)
    }
    this.pendingEnds.set(socket, end)
    socket.once('close', end)
    return true
  }

  /** connection_init arrived: the socket is no longer pending. */
  initialized (socket: WebSocket): void {
    this.pendingEnds.get(socket)?.()
  }

  /** The slot of an authenticated socket, held until it closes; null when its caller holds its ceiling (the socket is closed). */
  async admit (socket: WebSocket, request: IncomingMessage, caller: Caller): Promise<Slot | null> {
    const address = clientAddress(request, this.limits.trustProxy)
    const proven = caller.credential.kind !== 'bearer' || this.auth.scopes.standingOf(caller.credential) === 'proven'
    // An unproven token could be made up at will: it counts in its lane (its address, or its API key once
    // one of the key's tokens was accepted), apart from proven callers.
    const key = callerKey(this.auth, caller, address)
    const slot: Slot = { pool: proven ? this.connections : this.unproven, key }
    if (!await slot.pool.take(slot.key)) {
      socket.close(1008, proven
        ? this.tooManyForCaller()
        : closeReason(`Too many WebSocket connections ${key.startsWith('unproven:address:') ? 'from your address' : 'for your API key'} with tokens Visual Layer has not accepted yet: at most ${this.limits.maxUnprovenPerAddress}.`))
      return null
    }
    // The socket may have closed while the token was checked: its 'close' has passed, release now.
    if (socket.readyState !== socket.OPEN) {
      slot.pool.release(slot.key)
      return null
    }
    if (caller.credential.kind === 'bearer' && !proven) {
      const fingerprint = caller.credential.fingerprint
      const entry = { socket, caller, address, slot }
      const sockets = this.waitingForProof.get(fingerprint) ?? new Set()
      this.waitingForProof.set(fingerprint, sockets.add(entry))
      socket.once('close', () => {
        sockets.delete(entry)
        if (sockets.size === 0 && this.waitingForProof.get(fingerprint) === sockets) this.waitingForProof.delete(fingerprint)
      })
    }
    // The slot it holds when it closes: it may have moved to the account since.
    socket.once('close', () => { slot.pool.release(slot.key) })
    return slot
  }

  /** Shutdown: sockets are no longer moved to their account... */
  stop (): void {
    this.stopListening()
  }

  /** ...and, once every socket closed, this replica's slots leave the cluster's counts. */
  async close (): Promise<void> {
    await this.connections.close()
  }

  private tooManyForCaller (): string {
    return closeReason(
      `Too many WebSocket connections: at most ${this.limits.maxConnectionsPerCaller} per caller. Close one, or share one for many subscriptions.`
    )
  }

  private async moveToAccount (entry: Waiting): Promise<void> {
    const key = callerKey(this.auth, entry.caller, entry.address)
    if (!await this.connections.take(key)) {
      // Its account holds its ceiling already: the socket goes, as it would have at connection_init.
      entry.socket.close(1008, this.tooManyForCaller())
      return
    }
    // Closed while the slot was taken: its close released the address' slot; this one goes too.
    if (entry.socket.readyState !== entry.socket.OPEN) {
      this.connections.release(key)
      return
    }
    entry.slot.pool.release(entry.slot.key)
    entry.slot.pool = this.connections
    entry.slot.key = key
  }
}
