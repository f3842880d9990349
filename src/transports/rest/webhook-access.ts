import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Caller } from '../../auth/index.js'
import type { Delivery as DeliveryRecord, Webhook as WebhookRecord } from '../../domain/webhooks/model.js'
import { datasetById } from '../../domain/datasets.js'
import { GatewayError } from '../../errors.js'
import { problemOf, sendProblem } from './problem.js'
import type { RestContext, Routes } from './routes.js'

/*
 * What the /v1/webhooks routes (webhooks.ts, webhook-deliveries.ts) share: who owns a webhook, the
 * answer in passthrough mode (501), the datasets check, and the JSON of a webhook and of a delivery.
 * A webhook belongs to its caller (the verified subject in jwt mode; in none mode every caller is the
 * same one): another caller gets 404. Passthrough answers 501: the gateway holds no credential there
 * that outlives a caller's request, and the pollers behind webhooks need one (the service account of
 * jwt and none modes).
 */

const PASSTHROUGH = 'Webhooks need the gateway\'s own Visual Layer service account, which polls for events after the registering request has ended; ' +
  'in AUTH_MODE=passthrough the gateway holds no credential that outlives a caller\'s request (it keeps no partner token or secret). ' +
  'Run the gateway in jwt mode (docs/webhooks.md), or follow GET /v1/datasets/{id}/events.'
const MEMORY_NOTE = 'Kept by this gateway process alone (no REDIS_URL): registrations, pending deliveries and the delivery log are lost when it restarts.'
const REDIS_NOTE = 'Kept in Redis, shared by every replica: registrations, pending deliveries and the delivery log survive restarts.'

export function ownerOf (caller: Caller, scope: string): string {
  return caller.subject !== null ? `jwt:${caller.subject}` : scope
}

export function webhookJson (webhook: WebhookRecord): Record<string, unknown> {
  return {
    id: webhook.id,
    url: webhook.url,
    events: webhook.events,
    // None named: every dataset of the account.
    datasetIds: webhook.datasetIds.length === 0 ? null : webhook.datasetIds,
    enrichedCopyIds: webhook.copyIds,
    description: webhook.description,
    enabled: webhook.enabled,
    disabledReason: webhook.disabledReason,
    createdAt: webhook.createdAt
  }
}

export function deliveryJson (delivery: DeliveryRecord): Record<string, unknown> {
  return {
    id: delivery.id,
    eventId: delivery.eventId,
    eventType: delivery.eventType,
    resource: delivery.resource,
    state: delivery.state,
    attempts: delivery.attempts,
    nextAttemptAt: delivery.nextAttemptAt === null ? null : new Date(delivery.nextAttemptAt).toISOString(),
    event: JSON.parse(delivery.payload) as unknown
  }
}

type WebhookService = NonNullable<FastifyInstance['webhooks']>

/** A request's way to the webhooks: the service, the caller's owner key and operation context. */
export interface WebhookCaller { service: WebhookService, owner: string, ctx: RestContext }

export interface WebhookAccess {
  /** The webhooks as the request's caller sees them, or null when the answer (501) was sent. */
  open: (request: FastifyRequest, reply: FastifyReply) => WebhookCaller | null
  /** The storage the service keeps webhooks in, and what that means for the caller. */
  storage: (service: WebhookService) => { storage: 'redis' | 'memory', storageNote: string }
  /** Throws a 400 naming the datasets of `ids` the caller may not see (or that do not exist). */
  checkDatasets: (ctx: RestContext, ids: readonly string[]) => Promise<void>
  /** Answers to writes and secrets are never cached. */
  noStore: (reply: FastifyReply) => FastifyReply
}

export function webhookAccess (app: FastifyInstance, { contextOf }: Routes): WebhookAccess {
  const service = app.webhooks
  return {
    open: (request, reply) => {
      if (service === null) {
        void sendProblem(reply, problemOf('NOT_IMPLEMENTED', PASSTHROUGH, String(request.id)))
        return null
      }
      const ctx = contextOf(request, reply)
      return { service, owner: ownerOf(ctx.caller, ctx.scope()), ctx }
    },
    storage: (store) => ({ storage: store.durable ? 'redis' : 'memory', storageNote: store.durable ? REDIS_NOTE : MEMORY_NOTE }),
    checkDatasets: async (ctx, ids) => {
      const found = await Promise.all(ids.map(async (id) => await datasetById(ctx, 'id', id)))
      const missing = ids.filter((_, index) => found[index] === null)
      if (missing.length > 0) {
        throw new GatewayError('BAD_USER_INPUT', `Body field datasetIds names ${missing.length === 1 ? 'a dataset' : 'datasets'} that do not exist or you may not see: ${missing.slice(0, 5).join(', ')}.`)
      }
    },
    noStore: (reply) => reply.header('cache-control', 'no-store')
  }
}
