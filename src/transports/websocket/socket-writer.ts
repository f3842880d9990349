import type { Duplex } from 'node:stream'
import type { WebSocket } from 'ws'
import { frameLength } from './frame-bytes.js'

/*
 * Every message the gateway sends on one socket goes through its writer, which does two things:
 *
 * - It batches: the first message of a turn of the event loop corks the TCP socket, and the socket is
 *   uncorked once the turn's microtasks are done (process.nextTick), so that the messages one change
 *   makes for the subscriptions of a connection leave in one write (one writev), not one each. A
 *   write is a system call that also wakes the reader: at a fan-out it was 40 % of the gateway's CPU.
 * - It bounds what waits for the client: bytes it has not read yet (ws' bufferedAmount: the TCP
 *   socket's queue) stay in this process, so a message that would take them past `maxBufferedBytes`
 *   is not queued and the socket is closed with 1013 (it may reconnect) instead of the heap growing
 *   with it. A lone message larger than the bound still goes out. A batch is written out before it
 *   would pass the bound itself, so a client that reads is never refused for a burst of one turn.
 */

/** graphql-transport-ws messages are text frames, bytes or not (ws sends a Buffer as binary unless told). */
const TEXT = { binary: false }

export class SocketWriter {
  private corked = false
  /** Bytes corked this turn. */
  private batched = 0
  private readonly uncork = (): void => {
    this.corked = false
    this.batched = 0
    this.tcp.uncork()
  }

  constructor (
    private readonly socket: WebSocket,
    /** The socket ws writes to (the upgrade request's). */
    private readonly tcp: Duplex,
    private readonly maxBufferedBytes: number,
    /** The socket is past its bound: close it (once), saying why. */
    private readonly tooSlow: (bufferedBytes: number) => void,
    /** A write failed: the socket is unusable. */
    private readonly lost: (err: Error) => void
  ) {}

  /** The callback of writes that have none of their own: one function, so Node counts them instead of queueing each. */
  private readonly written = (err?: Error | null): void => {
    if (err !== undefined && err !== null) this.lost(err)
  }

  /**
   * Queues one text message (`length` its bytes), or refuses it (false) when the socket is not open or
   * its client reads too slowly (the socket is then closing). `done` is called once it is written, or
   * with the error that lost the socket (without `done`, that error goes to `lost`).
   */
  write (data: string | Buffer, length: number, done?: (err?: Error) => void): boolean {
    const socket = this.socket
    if (socket.readyState !== socket.OPEN) return false
    const frame = frameLength(length)
    // A batch goes out before it passes the bound: only bytes the client did not take count against it.
    if (this.corked && this.batched + frame > this.maxBufferedBytes) {
      this.tcp.uncork()
      this.tcp.cork()
      this.batched = 0
    }
    const queued = socket.bufferedAmount
    if (queued > 0 && queued + frame > this.maxBufferedBytes) {
      this.tooSlow(queued)
      return false
    }
    if (!this.corked) {
      this.corked = true
      this.tcp.cork()
      process.nextTick(this.uncork)
    }
    this.batched += frame
    socket.send(data, TEXT, done ?? this.written)
    return true
  }
}
