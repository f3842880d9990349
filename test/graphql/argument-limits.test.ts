import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'

/**
 * Every string argument has a cap (docs/errors.md): a longer value is BAD_USER_INPUT naming the
 * argument, the cap and the length, is never quoted back at length, and costs Visual Layer nothing.
 */

let gw: TestGateway
beforeAll(async () => { gw = await startTestGateway() })
afterAll(async () => { await gw.close() })
beforeEach(() => { gw.emulator.reset() })

const HUGE = 'x'.repeat(200_000)

function refusedWith (message: string): unknown {
  return { data: null, errors: [expect.objectContaining({ message, extensions: { code: 'BAD_USER_INPUT', requestId: expect.any(String) } })] }
}

describe('string arguments over their cap', () => {
  it.each([
    ['filter.datasetName', 256, '{ tasks(filter: { datasetName: $text }) { total } }'],
    ['filter.createdBy', 256, '{ tasks(filter: { createdBy: $text }) { total } }']
  ])('refuses a 200 KB %s in Query.tasks before any call', async (argument, max, body) => {
    const res = await gw.gql(`query ($text: String) ${body}`, { text: HUGE })
    expect(res.status).toBe(200)
    expect(res.body).toEqual(refusedWith(`Argument ${argument} must be at most ${max} characters long; got 200000.`))
    expect(gw.emulator.calls()).toEqual([])
  })

  it('refuses a 200 KB filter.createdBy in Dataset.tasks with the document, before the dataset is read', async () => {
    const res = await gw.gql('query ($id: ID!, $text: String) { dataset(id: $id) { id tasks(filter: { createdBy: $text }) { total } } }', { id: SEED.datasets.ready, text: HUGE })
    expect([res.status, res.body]).toEqual([400, {
      data: null,
      errors: [{ message: 'Argument filter.createdBy must be at most 256 characters long; got 200000.', extensions: { code: 'BAD_USER_INPUT', requestId: expect.any(String) } }]
    }])
    expect(gw.emulator.calls()).toEqual([])
  })

  it('takes a name of exactly the cap and forwards it', async () => {
    const name = 'n'.repeat(256)
    const res = await gw.gql('query ($text: String) { tasks(filter: { datasetName: $text }) { total } }', { text: name })
    expect(res.body).toEqual({ data: { tasks: { total: 0 } } })
    expect(gw.emulator.calls().map((call) => call.query.dataset_name)).toEqual([name])
  })

  it('refuses a 200 KB DateTime without quoting it back', async () => {
    const res = await gw.gql('query ($from: DateTime) { taskFilterOptions(startTimeFrom: $from) { taskTypes } }', { from: HUGE })
    expect(res.status).toBe(400)
    expect(res.body.errors).toEqual([expect.objectContaining({
      message: `Variable "$from" got invalid value "${'x'.repeat(80)}..."; Expected type "DateTime". DateTime must be an ISO-8601 date or date-time such as 2026-03-01T14:30:00Z; got "${'x'.repeat(80)}..." (200000 characters).`,
      extensions: { code: 'BAD_USER_INPUT', requestId: expect.any(String) }
    })])
    expect(JSON.stringify(res.body).length).toBeLessThan(1_000)
    expect(gw.emulator.calls()).toEqual([])
  })

  it('refuses enrichDataset with oversized models, too many models or a 200 KB id, naming each, with no call', async () => {
    const models = [{ type: 'T'.repeat(101), modelId: 'vl_image_captioner_v00' }, { type: 'IMAGE_CAPTIONS', modelId: 'm'.repeat(201) }]
    const one = await gw.gql('mutation ($id: ID!, $models: [EnrichmentModelInput!]!) { enrichDataset(datasetId: $id, models: $models) { enrichedDataset { id } } }', { id: SEED.datasets.ready, models })
    expect(one.body).toEqual(refusedWith(`Dataset ${SEED.datasets.ready} was not enriched, and nothing was sent to Visual Layer: the request has 2 problems. (1) models[0].type must be at most 100 characters long; got 101. (2) models[1].modelId must be at most 200 characters long; got 201.`))

    const many = Array.from({ length: 33 }, (_, i) => ({ type: `TYPE_${i}`, modelId: `model_${i}` }))
    const two = await gw.gql('mutation ($id: ID!, $models: [EnrichmentModelInput!]!) { enrichDataset(datasetId: $id, models: $models) { enrichedDataset { id } } }', { id: HUGE, models: many })
    expect(two.body).toEqual(refusedWith(`Dataset ${'x'.repeat(80)}... was not enriched, and nothing was sent to Visual Layer: the request has 2 problems. (1) Argument datasetId must be a Visual Layer id (a UUID such as ad48d250-1232-11f1-bfca-fa39f6ed1f22); got "${'x'.repeat(80)}". (2) Argument models names 33 models; at most 32 can be applied at once.`))
    expect(gw.emulator.calls()).toEqual([])
  })
})
