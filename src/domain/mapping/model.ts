import type { Checked } from '../../upstream/checked.js'
import type { UpstreamEnrichmentContext, UpstreamModel } from '../../upstream/schemas.js'
import type { Model } from '../../contract/types.js'
import type { EnrichmentContextParent } from '../parents.js'
import { guardBroken, type Dependents } from './broken.js'
import { modelStatus, type UnknownValueReporter } from './values.js'

/*
 * A Visual Layer model record as the contract's Model, and a dataset's enrichment context as the
 * contract's EnrichmentContext (its applied models sorted by type, each knowing its dataset).
 */

const DEPENDENTS: Dependents<Model> = {
  name: ['name'],
  type: ['type'],
  status: ['status', 'isActive'],
  vendor: ['vendor'],
  description: ['description'],
  dependencies: ['dependencies']
}

export function mapModel (checked: Checked<UpstreamModel>, onUnknown: UnknownValueReporter): Model {
  const record = checked.value
  const status = modelStatus(record.status ?? '', onUnknown)
  return guardBroken<Model>({
    id: record.id,
    name: record.name,
    type: record.type,
    status,
    vendor: record.vendor,
    description: record.description,
    dependencies: record.dependencies,
    isActive: status === 'ACTIVE'
  }, checked, DEPENDENTS, `model ${record.id}`)
}

export function mapEnrichmentContext (datasetId: string, record: UpstreamEnrichmentContext): EnrichmentContextParent {
  const applied = Object.entries(record.dataset_enrichment_models.enrichment_models)
    .map(([type, modelId]) => ({ type, modelId, datasetId }))
    .sort((a, b) => a.type.localeCompare(b.type))
  return { id: record.enrichment_context_id, status: record.status, applied }
}
