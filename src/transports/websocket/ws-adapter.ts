import type { IncomingMessage } from 'node:http'
import type { FastifyBaseLogger } from 'fastify'
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from 'graphql-ws'
import type { RawData, Server, WebSocket } from 'ws'
import type { WsLimits } from '../../config.js'
import { TokenBucket } from '../token-bucket.js'
import { closeReason } from './close-reason.js'
import { lengthOf } from './frame-bytes.js'
import type { GatewaySocket } from './gateway-socket.js'
import { keepAlive } from './keep-alive.js'
import { SocketWriter } from './socket-writer.js'

/** What every connection's `extra` holds from the adapter. */
export interface SocketExtra {
  readonly socket: GatewaySocket
  readonly request: IncomingMessage
  /** Where the door writes its own messages (the `next` messages of shared results, shared-frames.ts). */
  readonly writer: SocketWriter
}

export interface AdapterSettings {
  /** What one socket may cost (the bounds of config's WsLimits this adapter enforces). */
  limits: Omit<WsLimits, 'subscribesPerSecond' | 'subscribeBurst' | 'maxOperationIdLength'>
  /** Milliseconds, for the message rate (tests drive it). */
  now: () => number
  keepAliveMs?: number
}

/**
 * graphql-ws' transport-agnostic core (makeServer) on `ws` sockets, as graphql-ws/use/ws does it,
 * with differences that make us keep our own: everything goes to the app's JSON log (that adapter
 * writes plain text to stderr); a send to a socket that is already gone is dropped (logged once per
 * connection) instead of failing every subscription on it as an internal error; and what one socket
 * may cost is bounded, whoever its client is (each bound closes the socket with a code and a reason):
 * - a message over WS_MAX_MESSAGE_BYTES, refused by ws from its header (1009, with the reason of gateway-socket.ts);
 * - bytes queued for a client that reads too slowly, or not at all (1013: it may reconnect; socket-writer.ts);
 * - bytes received before connection_init is acknowledged, counted as they arrive, so a pending
 *   socket never holds more than a connection_init with its token (1009);
 * - ping payloads, echoed only up to a size (1009): graphql-ws echoes any payload, and a client that
 *   never reads made the gateway queue each one;
 * - messages a second of any kind, WebSocket pings and pongs included, and their bytes (1008): each
 *   message is parsed whole, and a socket sending 1 MB pongs nonstop kept the event loop busy.
 */
export function serveGraphQLWs<P extends Record<string, unknown>, E extends Record<PropertyKey, unknown>> (
  options: ServerOptions<P, SocketExtra & E>,
  wss: Server<typeof GatewaySocket>,
  log: FastifyBaseLogger,
  { limits, now, keepAliveMs = 12_000 }: AdapterSettings
): { dispose: () => Promise<void> } {
  /** Called once a socket's connection_init is accepted: it may send more from then on. */
  const acknowledged = new WeakMap<WebSocket, () => void>()
  const server = makeServer<P, SocketExtra & E>({
    ...options,
    onConnect: async (ctx) => {
      const permitted = await options.onConnect?.(ctx)
      if (permitted !== false) acknowledged.get(ctx.extra.socket)?.()
      return permitted
    }
  })
  wss.options.handleProtocols = handleProtocols
  wss.on('error', (err) => { log.error({ err }, 'WebSocket server error') })

  wss.on('connection', (socket: GatewaySocket, request: IncomingMessage) => {
    let gone = false
    /** The socket is unusable (a write failed): drop what is left to send, and let it close. */
    const lost = (err: Error): void => {
      if (gone) return
      gone = true
      log.debug({ code: (err as NodeJS.ErrnoException).code, reason: err.message }, 'WebSocket connection lost while sending; dropping what was left to send')
      socket.terminate()
    }
    /** Closes the socket on a bound passed, once; what it sends after that is not read. */
    const refuse = (code: number, reason: string, line: string, detail: Record<string, unknown>): void => {
      if (socket.readyState !== socket.OPEN) return
      log.info(detail, line)
      socket.close(code, closeReason(reason))
    }
    // A client's protocol error (a frame too large, invalid UTF-8...): ws closes the socket with the
    // matching code; the client is at fault, not the gateway.
    socket.on('error', (err) => {
      log.info({ code: (err as NodeJS.ErrnoException).code, reason: err.message }, 'WebSocket closed on a client protocol error')
    })

    // Until the ack, every byte the client sends is counted on the TCP socket itself (the upgrade
    // request's), before ws has a whole message: a frame that never ends is refused too.
    const tcp = request.socket
    let receivedBeforeAck = 0
    const countBeforeAck = (chunk: Buffer): void => {
      receivedBeforeAck += chunk.length
      if (receivedBeforeAck <= limits.maxInitBytes) return
      tcp.off('data', countBeforeAck)
      refuse(1009,
        `Too much sent before connection_ack: at most ${limits.maxInitBytes} bytes. Send connection_init first, and wait for its ack.`,
        'WebSocket closed: too much sent before connection_ack', { maxInitBytes: limits.maxInitBytes })
    }
    tcp.on('data', countBeforeAck)
    let acked = false
    acknowledged.set(socket, () => {
      acked = true
      tcp.off('data', countBeforeAck)
    })
    // ws' own 1009 (a frame over WS_MAX_MESSAGE_BYTES) says which bound it was (gateway-socket.ts).
    socket.tooLarge = () => acked
      ? `Message too large: at most ${limits.maxMessageBytes} bytes. Send a smaller document, or fewer variables.`
      : `Too much sent before connection_ack: at most ${limits.maxInitBytes} bytes. Send connection_init first, and wait for its ack.`

    const messages = new TokenBucket(limits.messageBurst, limits.messagesPerSecond, now)
    /** Counts one message against the socket's rate: false (and the socket closing) past it. */
    const counted = (): boolean => {
      if (socket.readyState !== socket.OPEN) return false
      if (messages.take()) return true
      refuse(1008, `Too many messages on this connection: at most ${limits.messagesPerSecond} a second, after a burst of ${limits.messageBurst}.`,
        'WebSocket closed: too many messages', { messagesPerSecond: limits.messagesPerSecond, messageBurst: limits.messageBurst })
      return false
    }
    const bytes = new TokenBucket(limits.receivedBytesBurst, limits.receivedBytesPerSecond, now)
    /** Counts a message's bytes, before it is parsed: false (and the socket closing) past the rate. */
    const affordable = (message: RawData): boolean => {
      if (bytes.take(lengthOf(message))) return true
      refuse(1008, `Too much sent on this connection: at most ${limits.receivedBytesPerSecond} bytes a second, after a burst of ${limits.receivedBytesBurst}.`,
        'WebSocket closed: too many bytes sent', { receivedBytesPerSecond: limits.receivedBytesPerSecond, receivedBytesBurst: limits.receivedBytesBurst })
      return false
    }
    // ws answers a WebSocket ping itself (and terminates a socket with 60 answers unsent); each counts.
    socket.on('ping', counted)
    socket.on('pong', counted)

    const stopKeepAlive = keepAlive(socket, keepAliveMs)

    // Every message leaves through the writer: batched per turn, and bounded for a client that reads too slowly.
    const writer = new SocketWriter(socket, tcp, limits.maxBufferedBytes, (queued) => {
      refuse(1013, `The client reads too slowly: over ${limits.maxBufferedBytes} bytes were waiting to be sent to it. Reconnect.`,
        'WebSocket closed: the client reads too slowly', { bufferedBytes: queued, maxBufferedBytes: limits.maxBufferedBytes })
    }, lost)
    const send = async (data: string): Promise<void> => {
      if (gone) return
      await new Promise<void>((resolve) => {
        const queued = writer.write(data, Buffer.byteLength(data), (err) => {
          if (err !== undefined && err !== null) lost(err)
          resolve()
        })
        if (!queued) resolve()
      })
    }

    const closed = server.opened({
      protocol: socket.protocol,
      send,
      close: (code, reason) => { socket.close(code, reason === undefined ? undefined : closeReason(reason)) },
      // Instead of graphql-ws' echo of any payload: the payload comes back only up to the bound.
      onPing: async (payload) => {
        if (payload === undefined || payload === null) {
          await send('{"type":"pong"}')
          return
        }
        const text = JSON.stringify(payload)
        if (Buffer.byteLength(text) > limits.maxPingPayloadBytes) {
          refuse(1009, `Ping payload too large: at most ${limits.maxPingPayloadBytes} bytes (as JSON). Send a smaller one, or none.`,
            'WebSocket closed: a ping payload too large', { maxPingPayloadBytes: limits.maxPingPayloadBytes })
          return
        }
        await send(`{"type":"pong","payload":${text}}`)
      },
      onMessage: (handle) => {
        socket.on('message', (message, isBinary) => {
          if (!counted() || !affordable(message)) return
          // graphql-transport-ws messages are JSON text; a binary frame is the client's mistake, said as such.
          if (isBinary) {
            log.info('WebSocket closed: a binary frame')
            socket.close(CloseCode.BadRequest, 'Binary frames are not accepted: send graphql-transport-ws messages as text')
            return
          }
          handle(String(message)).catch((err: unknown) => {
            log.error({ err }, 'unexpected error handling a WebSocket message')
            socket.close(CloseCode.InternalServerError, 'Internal server error')
          })
        })
      }
    }, { socket, request, writer } as SocketExtra & E)

    socket.once('close', (code, reason) => {
      tcp.off('data', countBeforeAck)
      stopKeepAlive()
      closed(code, String(reason)).catch((err: unknown) => { log.error({ err }, 'unexpected error closing a WebSocket connection') })
    })
  })

  return {
    dispose: async () => {
      for (const client of wss.clients) client.close(1001, 'Going away')
      wss.removeAllListeners()
      await new Promise<void>((resolve, reject) => { wss.close((err) => { if (err !== undefined) reject(err); else resolve() }) })
    }
  }
}
