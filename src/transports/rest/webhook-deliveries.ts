import { sendRepresentation } from './representation.js'
import type { Routes } from './routes.js'
import { NoQuery } from './schemas.js'
import { deliveryJson, type WebhookAccess } from './webhook-access.js'
import { Delivery, DeliveryList, DeliveryParams, WebhookParams } from './webhooks-schemas.js'

/* A webhook's delivery log under /v1/webhooks/{id}: the log, a redelivery, a ping (webhooks.ts registers the webhooks themselves). */

export function registerWebhookDeliveries ({ route }: Routes, { open, noStore }: WebhookAccess): void {
  const tags = ['webhooks']
  const problems = [404, 501]

  route({
    method: 'GET',
    url: '/webhooks/:id/deliveries',
    operationId: 'listWebhookDeliveries',
    summary: 'The webhook\'s delivery log, newest first (the newest 100): each event, its attempts with their status codes, and the next attempt.',
    tags,
    params: WebhookParams,
    query: NoQuery,
    success: { status: 200, schema: DeliveryList, description: 'The deliveries.' },
    problems
  }, async (request, reply, { params }) => {
    const caller = open(request, reply)
    if (caller === null) return reply
    return sendRepresentation(request, reply, { nodes: (await caller.service.deliveries(caller.owner, params.id)).map(deliveryJson) })
  })

  route({
    method: 'POST',
    url: '/webhooks/:id/deliveries/:deliveryId/redeliver',
    operationId: 'redeliverWebhookDelivery',
    summary: 'Send a delivered or failed delivery again, with the same webhook-id.',
    tags,
    params: DeliveryParams,
    query: NoQuery,
    success: { status: 202, schema: Delivery, description: 'Queued.' },
    // 409: pending already (another redelivery came first); 429: WEBHOOKS_MAX_PENDING deliveries pending.
    problems: [404, 409, 429, 501]
  }, async (request, reply, { params }) => {
    const caller = open(request, reply)
    if (caller === null) return reply
    return noStore(reply).code(202).send(deliveryJson(await caller.service.redeliver(caller.owner, params.id, params.deliveryId)))
  })

  route({
    method: 'POST',
    url: '/webhooks/:id/test',
    operationId: 'pingWebhook',
    summary: 'Send a webhook.ping event to the webhook now.',
    tags,
    params: WebhookParams,
    query: NoQuery,
    success: { status: 202, schema: Delivery, description: 'Queued: see the delivery log for its outcome.' },
    problems: [...problems, 429]
  }, async (request, reply, { params }) => {
    const caller = open(request, reply)
    if (caller === null) return reply
    return noStore(reply).code(202).send(deliveryJson(await caller.service.ping(caller.owner, params.id)))
  })
}
