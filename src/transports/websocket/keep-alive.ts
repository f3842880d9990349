import type { WebSocket } from 'ws'

/**
 * Pings `socket` every `intervalMs`: a peer that does not answer a ping within the interval is gone,
 * and is dropped. Returns the function that stops it (when the socket closes); 0 pings never.
 */
export function keepAlive (socket: WebSocket, intervalMs: number): () => void {
  if (intervalMs <= 0) return () => {}
  let pongWait: NodeJS.Timeout | null = null
  const pings = setInterval(() => {
    if (socket.readyState !== socket.OPEN) return
    pongWait = setTimeout(() => { socket.terminate() }, intervalMs)
    socket.once('pong', () => {
      if (pongWait !== null) clearTimeout(pongWait)
      pongWait = null
    })
    socket.ping()
  }, intervalMs)
  return () => {
    if (pongWait !== null) clearTimeout(pongWait)
    clearInterval(pings)
  }
}
