import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import type { FastifyBaseLogger } from 'fastify'
import type { Invalidations } from '../domain/live/invalidation.js'
import type { VisualLayerClient } from '../upstream/client.js'
import type { Channels } from './channels.js'
import { writtenKey } from './live-leases.js'
import { WRITTEN } from './live-scripts.js'
import type { RedisLink } from './redis.js'

/*
 * Invalidations after writes, across replicas: each one published here (by enrich, abort, retry) goes
 * out on the channel `live:invalidations`, and each one another replica sent is published here, so
 * that the pollers of its scope poll at once (the lease holder among them) and the shared reads in
 * flight for its datasets are dropped. In the same step each touched dataset is marked written, so that
 * no replica shows a new subscriber a state polled before the write (live-leases.ts). While Redis is
 * away a write invalidates its own replica only.
 */

const message = z.object({
  from: z.string(),
  scope: z.string(),
  datasetIds: z.array(z.string()),
  taskIds: z.array(z.string())
})

/** Starts the bridge: `joined` settles once the channel is subscribed (true) or cannot be (false); `stop` ends it. */
export function shareInvalidations (
  link: RedisLink,
  channels: Channels,
  invalidations: Invalidations,
  vl: VisualLayerClient,
  log: FastifyBaseLogger,
  /** How long a dataset's write mark is kept: as long as a state polled before it may live. */
  writtenMs: number
): { joined: Promise<boolean>, stop: () => void } {
  const me = randomUUID()
  const channel = link.key('live:invalidations')
  let failed = false
  const stopLocal = invalidations.subscribe(({ scope, datasetIds, taskIds, remote }) => {
    if (remote === true) return
    const marks = [...new Set(datasetIds)].map((id) => writtenKey(link, id))
    const message = JSON.stringify({ from: me, scope, datasetIds, taskIds })
    link.run(async (redis) => await redis.eval(WRITTEN, marks.length, ...marks, writtenMs, channel, message)).then(() => { failed = false }, (err: unknown) => {
      // The link warns of the outage itself; this says what it means for writes.
      if (!failed) log.info({ err: { message: err instanceof Error ? err.message : String(err) } }, 'invalidations: Redis unavailable; writes invalidate this replica only until it answers')
      failed = true
    })
  })
  const onMessage = (text: string): void => {
    let parsed: z.infer<typeof message>
    try {
      parsed = message.parse(JSON.parse(text))
    } catch {
      log.warn('invalidations: a message on Redis was not an invalidation; ignored')
      return
    }
    if (parsed.from === me) return
    vl.forgetInFlight(parsed.scope, parsed.datasetIds)
    invalidations.publish({ scope: parsed.scope, datasetIds: parsed.datasetIds, taskIds: parsed.taskIds, remote: true })
  }
  const joined = channels.join(channel, onMessage)
  return {
    joined,
    stop: () => {
      stopLocal()
      channels.leave(channel, onMessage)
    }
  }
}
