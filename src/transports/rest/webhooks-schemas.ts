import { z } from 'zod'
import { EVENT_TYPES } from '../../domain/webhooks/model.js'
import { components } from './document-schemas.js'

/* The request and answer schemas of /v1/webhooks (webhooks.ts), registered in the OpenAPI document's components. */

const MAX_DATASETS = 100
/** A dataset id as sent (a body is described as it is received: lower-cased by the route, not here). */
const DatasetId = z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, {
  error: 'must hold Visual Layer dataset ids (UUIDs such as ad48d250-1232-11f1-bfca-fa39f6ed1f22)'
})
const WebhookId = z.string().regex(/^wh_[0-9a-f]{32}$/, { error: 'must be a webhook id (wh_ and 32 hexadecimal digits)' })
const DeliveryId = z.string().regex(/^dlv_[0-9a-f]{32}$/, { error: 'must be a delivery id (dlv_ and 32 hexadecimal digits)' })

export const WebhookParams = z.strictObject({ id: WebhookId })
export const DeliveryParams = z.strictObject({ id: WebhookId, deliveryId: DeliveryId })

const Url = z.string().max(2048, { error: 'must be at most 2048 characters long' }).meta({ description: 'Where events are POSTed: http(s), resolving to public addresses only.' })
const Events = z.array(z.enum(EVENT_TYPES, { error: `must name event types among ${EVENT_TYPES.join(', ')}` }), { error: 'must be a list of event types' })
  .min(1, { error: `is empty: name at least one of ${EVENT_TYPES.join(', ')}` })
  .max(EVENT_TYPES.length * 2, { error: 'names too many event types' })
const DatasetIds = z.array(DatasetId, { error: 'must be a list of dataset ids' })
  .min(1, { error: 'is empty: name the datasets whose events you want (their enriched copies follow), or leave datasetIds out (or null) for every dataset of the account' })
  .max(MAX_DATASETS, { error: `names more than ${MAX_DATASETS} datasets` })
  .nullable()
const datasetsFollowed = `Up to ${MAX_DATASETS} datasets (their enriched copies made through the gateway follow)`
const Description = z.string().max(500, { error: 'must be at most 500 characters long' }).nullable()

export const WebhookBody = z.strictObject({
  url: Url,
  events: Events,
  datasetIds: DatasetIds.optional().meta({ description: `${datasetsFollowed}; absent or null: every dataset of the account, those created later too.` }),
  description: Description.optional()
}).register(components, { id: 'WebhookRequest' })

export const WebhookPatchBody = z.strictObject({
  url: Url.optional(),
  events: Events.optional(),
  datasetIds: DatasetIds.optional().meta({ description: `${datasetsFollowed}; null: every dataset of the account from now on; absent: unchanged.` }),
  description: Description.optional(),
  enabled: z.boolean({ error: 'must be true or false' }).optional().meta({ description: 'true enables a disabled webhook again (its pending deliveries resume).' })
}).register(components, { id: 'WebhookPatch' })

const webhookFields = {
  id: z.string(),
  url: z.string(),
  events: z.array(z.enum(EVENT_TYPES)),
  datasetIds: z.array(z.string()).nullable().meta({ description: 'The datasets followed; null: every dataset of the account.' }),
  enrichedCopyIds: z.array(z.string()).meta({ description: 'Enriched copies of those datasets made through the gateway since, followed too.' }),
  description: z.string().nullable(),
  enabled: z.boolean(),
  disabledReason: z.string().nullable(),
  createdAt: z.string().meta({ format: 'date-time' })
}

export const Webhook = z.strictObject(webhookFields).register(components, { id: 'Webhook' })
export const WebhookList = z.strictObject({ nodes: z.array(Webhook) }).register(components, { id: 'WebhookList' })

export const CreatedWebhook = z.strictObject({
  ...webhookFields,
  secret: z.string().meta({ description: 'The signing secret (whsec_...), shown this once: verify deliveries with any Standard Webhooks library.' }),
  storage: z.enum(['memory', 'redis']).meta({ description: 'memory: kept by this gateway process alone, lost when it restarts (no REDIS_URL); redis: kept across restarts.' }),
  storageNote: z.string()
}).register(components, { id: 'CreatedWebhook' })

export const RotateQuery = z.strictObject({
  gracePeriodSeconds: z.string().regex(/^\d{1,6}$/, { error: 'must be an integer from 0 to 604800' }).transform(Number)
    .pipe(z.number().max(604_800, { error: 'must be an integer from 0 to 604800' })).optional()
    .meta({ type: 'integer', pattern: undefined, minimum: 0, maximum: 604_800, description: 'How long the old secret keeps signing beside the new one (default 86400).' })
})

export const RotatedSecret = z.strictObject({
  secret: z.string().meta({ description: 'The new signing secret, shown this once.' }),
  previousSecretValidUntil: z.string().nullable().meta({ format: 'date-time', description: 'Until when deliveries are signed with the old secret too.' })
}).register(components, { id: 'RotatedSecret' })

const Attempt = z.strictObject({
  at: z.string().meta({ format: 'date-time' }),
  statusCode: z.int().nullable(),
  error: z.string().nullable(),
  durationMs: z.number(),
  responseBody: z.string().nullable().meta({ description: 'The first bytes of the answer (WEBHOOKS_MAX_RESPONSE_BYTES).' })
})

export const Delivery = z.strictObject({
  id: z.string(),
  eventId: z.string().meta({ description: 'The webhook-id header of every attempt.' }),
  eventType: z.string(),
  resource: z.string(),
  state: z.enum(['pending', 'delivered', 'failed', 'recorded']).meta({ description: 'recorded: an event of the gateway\'s own (webhook.disabled), kept in the log, not sent.' }),
  attempts: z.array(Attempt),
  nextAttemptAt: z.string().nullable().meta({ format: 'date-time' }),
  event: z.unknown().meta({ description: 'The event as sent: {id, type, timestamp, data}.' })
}).register(components, { id: 'WebhookDelivery' })

export const DeliveryList = z.strictObject({ nodes: z.array(Delivery) }).register(components, { id: 'WebhookDeliveryList' })
export const NoContent = z.null().register(components, { id: 'NoContent' })
