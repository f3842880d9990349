import { channel } from 'node:diagnostics_channel'

/*
 * What the doors that hold connections open do, published on node:diagnostics_channel for whoever
 * listens (an APM agent, a test that waits for a close instead of for time). Each message names the
 * gateway's HTTP server (`app.server`, one per app), so that listeners in a process with several
 * gateways tell them apart.
 */

/** The doors whose connections stay open: WebSocket, GraphQL over SSE, REST's event streams. */
export type HeldDoor = 'websocket' | 'sse' | 'rest-events'

/**
 * A door let go of a connection: a WebSocket closed (no longer counted open), an event stream ended
 * (no longer counted open; when its client left first, its caller's slot was freed then), or a
 * reserved single-connection stream nobody opened timed out (its slot is free, its token opens nothing).
 */
export interface ConnectionEndedMessage {
  readonly server: object
  readonly door: HeldDoor
  /** `reservation` for a single-connection stream dropped unopened; `connection` otherwise. */
  readonly what: 'connection' | 'reservation'
  /** Connections of this door open at this gateway now (its vlgw_websocket_connections or vlgw_sse_streams count). */
  readonly open: number
}

export const connectionEnds = channel('visual-layer:transports:ended')

/** Publishes one ConnectionEndedMessage (nothing to build when nobody listens). */
export function connectionEnded (server: object, door: HeldDoor, open: () => number, what: ConnectionEndedMessage['what'] = 'connection'): void {
  if (connectionEnds.hasSubscribers) connectionEnds.publish({ server, door, what, open: open() } satisfies ConnectionEndedMessage)
}
