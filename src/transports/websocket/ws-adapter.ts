import type { IncomingMessage } from 'node:http'
import type { FastifyBaseLogger } from 'fastify'
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from 'graphql-ws'
import type { WebSocket, WebSocketServer } from 'ws'

/** What every connection's `extra` holds from the adapter. */
export interface SocketExtra {
  readonly socket: WebSocket
  readonly request: IncomingMessage
}

/**
 * graphql-ws' transport-agnostic core (makeServer) on `ws` sockets, as graphql-ws/use/ws does it,
 * with two differences that make us keep our own: everything goes to the app's JSON log (that
 * adapter writes plain text to stderr), and a send to a socket that is already gone is dropped
 * (logged once per connection) instead of failing every subscription on it as an internal error.
 */
export function serveGraphQLWs<P extends Record<string, unknown>, E extends Record<PropertyKey, unknown>> (
  options: ServerOptions<P, SocketExtra & E>,
  wss: WebSocketServer,
  log: FastifyBaseLogger,
  keepAliveMs = 12_000
): { dispose: () => Promise<void> } {
  const server = makeServer(options)
  wss.options.handleProtocols = handleProtocols
  wss.on('error', (err) => { log.error({ err }, 'WebSocket server error') })

  wss.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    let gone = false
    /** The socket is unusable (a write failed): drop what is left to send, and let it close. */
    const lost = (err: Error): void => {
      if (gone) return
      gone = true
      log.debug({ code: (err as NodeJS.ErrnoException).code, reason: err.message }, 'WebSocket connection lost while sending; dropping what was left to send')
      socket.terminate()
    }
    // A client's protocol error (a frame too large, invalid UTF-8...): ws closes the socket with the
    // matching code; the client is at fault, not the gateway.
    socket.on('error', (err) => {
      log.info({ code: (err as NodeJS.ErrnoException).code, reason: err.message }, 'WebSocket closed on a client protocol error')
    })

    let pongWait: NodeJS.Timeout | null = null
    const pingInterval = keepAliveMs > 0
      ? setInterval(() => {
        if (socket.readyState !== socket.OPEN) return
        // A peer that does not answer a ping within the interval is gone: drop it.
        pongWait = setTimeout(() => { socket.terminate() }, keepAliveMs)
        socket.once('pong', () => {
          if (pongWait !== null) clearTimeout(pongWait)
          pongWait = null
        })
        socket.ping()
      }, keepAliveMs)
      : null

    const closed = server.opened({
      protocol: socket.protocol,
      send: async (data) => {
        await new Promise<void>((resolve) => {
          if (gone || socket.readyState !== socket.OPEN) {
            resolve()
            return
          }
          socket.send(data, (err) => {
            if (err !== undefined && err !== null) lost(err)
            resolve()
          })
        })
      },
      close: (code, reason) => { socket.close(code, reason) },
      onMessage: (handle) => {
        socket.on('message', (message, isBinary) => {
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
    }, { socket, request } as SocketExtra & E)

    socket.once('close', (code, reason) => {
      if (pongWait !== null) clearTimeout(pongWait)
      if (pingInterval !== null) clearInterval(pingInterval)
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
