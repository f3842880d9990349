import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Caller } from '../../auth/index.js'
import type { Delivery as DeliveryRecord, Webhook as WebhookRecord } from '../../domain/webhooks/model.js'
import { datasetById } from '../../domain/datasets.js'
import { GatewayError } from '../../errors.js'
import { problemOf, sendProblem } from './problem.js'
import { sendRepresentation } from './representation.js'
import type { Routes } from './routes.js'
import { NoQuery } from './schemas.js'
import {
  CreatedWebhook, Delivery, DeliveryList, DeliveryParams, NoContent, RotatedSecret, RotateQuery, Webhook, WebhookBody, WebhookList, WebhookParams,
  WebhookPatchBody
} from './webhooks-schemas.js'

/*
 * /v1/webhooks: partner services register where the gateway POSTs events (docs/webhooks.md). A webhook
 * belongs to its caller (the verified subject in jwt mode; in none mode every caller is the same one):
 * another caller gets 404. Passthrough answers 501: the gateway holds no credential there that outlives a
 * caller's request, and the pollers behind webhooks need one (the service account of jwt and none modes).
 */

const PASSTHROUGH = 'Webhooks need the gateway\'s own Visual Layer service account, which polls for events after the registering request has ended; ' +
  'in AUTH_MODE=passthrough the gateway holds no credential that outlives a caller\'s request (it keeps no partner token or secret). ' +
  'Run the gateway in jwt mode (docs/webhooks.md), or follow GET /v1/datasets/{id}/events.'
const MEMORY_NOTE = 'Kept by this gateway process alone (no REDIS_URL): registrations, pending deliveries and the delivery log are lost when it restarts.'
const REDIS_NOTE = 'Kept in Redis, shared by every replica: registrations, pending deliveries and the delivery log survive restarts.'

export function ownerOf (caller: Caller, scope: string): string {
  return caller.subject !== null ? `jwt:${caller.subject}` : scope
}

function webhookJson (webhook: WebhookRecord): Record<string, unknown> {
  return {
    id: webhook.id,
    url: webhook.url,
    events: webhook.events,
    datasetIds: webhook.datasetIds,
    enrichedCopyIds: webhook.copyIds,
    description: webhook.description,
    enabled: webhook.enabled,
    disabledReason: webhook.disabledReason,
    createdAt: webhook.createdAt
  }
}

function deliveryJson (delivery: DeliveryRecord): Record<string, unknown> {
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

export function registerWebhooks (app: FastifyInstance, { route, contextOf }: Routes): void {
  const service = app.webhooks
  const tags = ['webhooks']
  /** The service and the caller's owner key, or null when the answer (501) was sent. */
  const open = (request: FastifyRequest, reply: FastifyReply): { owner: string, ctx: ReturnType<typeof contextOf> } | null => {
    if (service === null) {
      void sendProblem(reply, problemOf('NOT_IMPLEMENTED', PASSTHROUGH, String(request.id)))
      return null
    }
    const ctx = contextOf(request, reply)
    return { owner: ownerOf(ctx.caller, ctx.scope()), ctx }
  }
  const noStore = (reply: FastifyReply): FastifyReply => reply.header('cache-control', 'no-store')
  const checkDatasets = async (ctx: ReturnType<typeof contextOf>, ids: readonly string[]): Promise<void> => {
    const found = await Promise.all(ids.map(async (id) => await datasetById(ctx, 'id', id)))
    const missing = ids.filter((_, index) => found[index] === null)
    if (missing.length > 0) {
      throw new GatewayError('BAD_USER_INPUT', `Body field datasetIds names ${missing.length === 1 ? 'a dataset' : 'datasets'} that do not exist or you may not see: ${missing.slice(0, 5).join(', ')}.`)
    }
  }
  const problems = [404, 501]

  route({
    method: 'POST',
    url: '/webhooks',
    operationId: 'createWebhook',
    summary: 'Register a webhook: the gateway POSTs the events named for the datasets named (and their enriched copies), signed per Standard Webhooks.',
    tags,
    query: NoQuery,
    body: WebhookBody,
    success: { status: 201, schema: CreatedWebhook, description: 'Registered; the signing secret is shown this once.', headers: { Location: 'The webhook.' } },
    problems: [415, 429, 501]
  }, async (request, reply, { body }) => {
    const caller = open(request, reply)
    if (caller === null || service === null) return reply
    const datasetIds = body.datasetIds.map((id) => id.toLowerCase())
    await checkDatasets(caller.ctx, datasetIds)
    const { webhook, secret } = await service.create(caller.owner, { url: body.url, events: body.events, datasetIds, description: body.description ?? null })
    return noStore(reply).code(201).header('location', `/v1/webhooks/${webhook.id}`).send({
      ...webhookJson(webhook),
      secret,
      storage: service.durable ? 'redis' : 'memory',
      storageNote: service.durable ? REDIS_NOTE : MEMORY_NOTE
    })
  })

  route({
    method: 'GET',
    url: '/webhooks',
    operationId: 'listWebhooks',
    summary: 'The caller\'s webhooks.',
    tags,
    query: NoQuery,
    success: { status: 200, schema: WebhookList, description: 'The webhooks (never their secrets).' },
    problems: [501]
  }, async (request, reply) => {
    const caller = open(request, reply)
    if (caller === null || service === null) return reply
    const webhooks = await service.list(caller.owner)
    const ordered = webhooks.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
    return sendRepresentation(request, reply, { nodes: ordered.map(webhookJson) })
  })

  route({
    method: 'GET',
    url: '/webhooks/:id',
    operationId: 'getWebhook',
    summary: 'One of the caller\'s webhooks.',
    tags,
    params: WebhookParams,
    query: NoQuery,
    success: { status: 200, schema: Webhook, description: 'The webhook.' },
    problems
  }, async (request, reply, { params }) => {
    const caller = open(request, reply)
    if (caller === null || service === null) return reply
    return sendRepresentation(request, reply, webhookJson(await service.get(caller.owner, params.id)))
  })

  route({
    method: 'PATCH',
    url: '/webhooks/:id',
    operationId: 'updateWebhook',
    summary: 'Change a webhook\'s URL, events, datasets or description, or enable it again ({"enabled": true}) after it was disabled.',
    tags,
    params: WebhookParams,
    query: NoQuery,
    body: WebhookPatchBody,
    success: { status: 200, schema: Webhook, description: 'The webhook as changed.' },
    problems: [404, 415, 501]
  }, async (request, reply, { params, body }) => {
    const caller = open(request, reply)
    if (caller === null || service === null) return reply
    await service.get(caller.owner, params.id)
    const datasetIds = body.datasetIds?.map((id) => id.toLowerCase())
    if (datasetIds !== undefined) await checkDatasets(caller.ctx, datasetIds)
    const patch = Object.fromEntries(Object.entries({ ...body, datasetIds }).filter(([, value]) => value !== undefined))
    return noStore(reply).send(webhookJson(await service.update(caller.owner, params.id, patch)))
  })

  route({
    method: 'DELETE',
    url: '/webhooks/:id',
    operationId: 'deleteWebhook',
    summary: 'Delete a webhook, its pending deliveries and its log.',
    tags,
    params: WebhookParams,
    query: NoQuery,
    success: { status: 204, schema: NoContent, description: 'Deleted.' },
    problems
  }, async (request, reply, { params }) => {
    const caller = open(request, reply)
    if (caller === null || service === null) return reply
    await service.remove(caller.owner, params.id)
    return noStore(reply).code(204).send()
  })

  route({
    method: 'POST',
    url: '/webhooks/:id/rotate-secret',
    operationId: 'rotateWebhookSecret',
    summary: 'A new signing secret; the old one keeps signing beside it for the grace period, so receivers can switch without losing a delivery.',
    tags,
    params: WebhookParams,
    query: RotateQuery,
    success: { status: 200, schema: RotatedSecret, description: 'The new secret, shown this once.' },
    problems
  }, async (request, reply, { params, query }) => {
    const caller = open(request, reply)
    if (caller === null || service === null) return reply
    const graceMs = (query.gracePeriodSeconds ?? 86_400) * 1000
    const { webhook, secret } = await service.rotate(caller.owner, params.id, graceMs)
    const previous = webhook.secrets[1]?.expiresAt ?? null
    return noStore(reply).send({ secret, previousSecretValidUntil: previous === null ? null : new Date(previous).toISOString() })
  })

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
    if (caller === null || service === null) return reply
    return sendRepresentation(request, reply, { nodes: (await service.deliveries(caller.owner, params.id)).map(deliveryJson) })
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
    problems: [404, 409, 501]
  }, async (request, reply, { params }) => {
    const caller = open(request, reply)
    if (caller === null || service === null) return reply
    return noStore(reply).code(202).send(deliveryJson(await service.redeliver(caller.owner, params.id, params.deliveryId)))
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
    problems
  }, async (request, reply, { params }) => {
    const caller = open(request, reply)
    if (caller === null || service === null) return reply
    return noStore(reply).code(202).send(deliveryJson(await service.ping(caller.owner, params.id)))
  })
}
