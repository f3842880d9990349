import type { FastifyInstance } from 'fastify'
import type { Routes } from './routes.js'
import { sendRepresentation } from './representation.js'
import { NoQuery } from './schemas.js'
import { webhookAccess, webhookJson } from './webhook-access.js'
import { registerWebhookDeliveries } from './webhook-deliveries.js'
import {
  CreatedWebhook, NoContent, RotatedSecret, RotateQuery, Webhook, WebhookBody, WebhookList, WebhookParams, WebhookPatchBody
} from './webhooks-schemas.js'

/*
 * /v1/webhooks: partner services register where the gateway POSTs events (docs/webhooks.md); this file
 * declares the registrations' routes, webhook-deliveries.ts their delivery logs, webhook-access.ts who
 * owns a webhook and what passthrough mode answers (501).
 */

export function registerWebhooks (app: FastifyInstance, routes: Routes): void {
  const { route } = routes
  const access = webhookAccess(app, routes)
  const { open, noStore, checkDatasets, storage } = access
  const tags = ['webhooks']
  const problems = [404, 501]

  route({
    method: 'POST',
    url: '/webhooks',
    operationId: 'createWebhook',
    summary: 'Register a webhook: the gateway POSTs the events named for the datasets named (and their enriched copies), or without datasetIds for every dataset of the account, signed per Standard Webhooks.',
    tags,
    query: NoQuery,
    body: WebhookBody,
    success: { status: 201, schema: CreatedWebhook, description: 'Registered; the signing secret is shown this once.', headers: { Location: 'The webhook.' } },
    problems: [415, 429, 501]
  }, async (request, reply, { body }) => {
    const caller = open(request, reply)
    if (caller === null) return reply
    // None named: every dataset of the account (the account's lists are followed, docs/webhooks.md).
    const datasetIds = body.datasetIds?.map((id) => id.toLowerCase()) ?? []
    await checkDatasets(caller.ctx, datasetIds)
    const registration = { url: body.url, events: body.events, datasetIds, description: body.description ?? null }
    const { webhook, secret } = await caller.service.create(caller.owner, registration)
    return noStore(reply).code(201).header('location', `/v1/webhooks/${webhook.id}`).send({
      ...webhookJson(webhook),
      secret,
      ...storage(caller.service)
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
    if (caller === null) return reply
    const webhooks = await caller.service.list(caller.owner)
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
    if (caller === null) return reply
    return sendRepresentation(request, reply, webhookJson(await caller.service.get(caller.owner, params.id)))
  })

  route({
    method: 'PATCH',
    url: '/webhooks/:id',
    operationId: 'updateWebhook',
    summary: 'Change a webhook\'s URL, events, datasets ({"datasetIds": null}: every dataset of the account) or description, or enable it again ({"enabled": true}) after it was disabled.',
    tags,
    params: WebhookParams,
    query: NoQuery,
    body: WebhookPatchBody,
    success: { status: 200, schema: Webhook, description: 'The webhook as changed.' },
    problems: [404, 415, 501]
  }, async (request, reply, { params, body }) => {
    const caller = open(request, reply)
    if (caller === null) return reply
    await caller.service.get(caller.owner, params.id)
    // null: every dataset of the account from now on.
    const datasetIds = body.datasetIds === null ? [] : body.datasetIds?.map((id) => id.toLowerCase())
    if (datasetIds !== undefined) await checkDatasets(caller.ctx, datasetIds)
    const patch = Object.fromEntries(Object.entries({ ...body, datasetIds }).filter(([, value]) => value !== undefined))
    return noStore(reply).send(webhookJson(await caller.service.update(caller.owner, params.id, patch)))
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
    if (caller === null) return reply
    await caller.service.remove(caller.owner, params.id)
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
    if (caller === null) return reply
    const graceMs = (query.gracePeriodSeconds ?? 86_400) * 1000
    const { webhook, secret } = await caller.service.rotate(caller.owner, params.id, graceMs)
    const previous = webhook.secrets[1]?.expiresAt ?? null
    return noStore(reply).send({ secret, previousSecretValidUntil: previous === null ? null : new Date(previous).toISOString() })
  })

  registerWebhookDeliveries(routes, access)
}
