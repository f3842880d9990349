import { channel } from 'node:diagnostics_channel'
import type { PollOutcome } from './poller.js'

/*
 * What the pollers do, published on node:diagnostics_channel for whoever listens (an APM agent, a
 * test that waits for a poll instead of for time). Each message names the registry it comes from
 * (one per app), so that listeners in a process with several gateways tell them apart.
 */

/** A poller's round ended and it sleeps `nextInMs` (on its LiveTime) before the next one. */
export interface PollRoundMessage {
  readonly registry: object
  /** The poller's key: `<kind> <scope> <id>`. */
  readonly key: string
  readonly datasetId: string
  /** What its poll gave, or `followed` when another replica polls this round (it only listened). */
  readonly outcome: PollOutcome | 'followed'
  readonly nextInMs: number
}

/** A poller stopped: its last subscriber left, every token expired, Visual Layer ended it, or shutdown. It holds no timer. */
export interface PollerStoppedMessage {
  readonly registry: object
  readonly key: string
  readonly datasetId: string
}

export const pollRounds = channel('visual-layer:live:round')
export const pollerStops = channel('visual-layer:live:stopped')
