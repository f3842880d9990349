import { WebSocket } from 'ws'
import { closeReason } from './close-reason.js'

/*
 * The gateway's sockets: the WebSocket server makes them of this class (ws' `WebSocket` option). ws
 * refuses a frame over WS_MAX_MESSAGE_BYTES from its header, before reading its payload, by closing
 * the socket with a bare 1009 (ws uses 1009 for nothing else); here that close says why, in the words
 * the adapter gives each socket (`tooLarge`: what was too large depends on the socket's state).
 */
export class GatewaySocket extends WebSocket {
  /** The reason of ws' own 1009, read when it closes; null: ws' bare 1009. */
  tooLarge: (() => string) | null = null

  override close (code?: number, reason?: string | Buffer): void {
    if (code !== 1009 || reason !== undefined || this.tooLarge === null) {
      super.close(code, reason)
      return
    }
    // ws reports it as an 'error' too (WS_ERR_UNSUPPORTED_MESSAGE_LENGTH): that is its one log line.
    super.close(1009, closeReason(this.tooLarge()))
  }
}
