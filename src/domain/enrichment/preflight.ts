import type { Checked } from '../../upstream/checked.js'
import type { UpstreamModel } from '../../upstream/schemas.js'
import type { EnrichmentModelInput } from '../../contract/types.js'
import { mapModel } from '../mapping/model.js'
import type { UnknownValueReporter } from '../mapping/values.js'

/**
 * The checks of an enrichment request that Visual Layer would otherwise answer with a 400, done
 * from the dataset's own model list and enrichment context. Pure: each returns every problem it
 * finds, as a sentence that names the argument and says what to do.
 */

/** Problems visible in the arguments alone: duplicated types. (An empty list is refused earlier.) */
export function duplicateTypes (models: readonly EnrichmentModelInput[]): string[] {
  const positions = new Map<string, number[]>()
  models.forEach((model, index) => { positions.set(model.type, [...(positions.get(model.type) ?? []), index]) })
  return [...positions]
    .filter(([, at]) => at.length > 1)
    .map(([type, at]) => {
      const where = listing(at.map((i) => `models[${i}]`))
      return `${where} ${at.length === 2 ? 'both give' : 'all give'} type ${type}: name one model per enrichment type.`
    })
}

export interface ModelCheck {
  problems: string[]
  /** Dependencies that the request does not bring itself: they must be applied to the dataset already. */
  unmet: Array<{ index: number, modelId: string, type: string, dependency: string }>
}

/** Each requested model against the dataset's model list: listed, under that type, Active. */
export function checkModels (
  models: readonly EnrichmentModelInput[],
  available: ReadonlyArray<Checked<UpstreamModel>>,
  onUnknown: UnknownValueReporter
): ModelCheck {
  const requestedTypes = new Set(models.map((model) => model.type))
  const problems: string[] = []
  const unmet: ModelCheck['unmet'] = []
  models.forEach((requested, index) => {
    const record = available.find((candidate) => candidate.value.id === requested.modelId)
    const at = `models[${index}]`
    if (record === undefined) {
      problems.push(`${at}: model ${quote(requested.modelId)} is not in this dataset's model list; Dataset.models lists the ones that can be applied.`)
      return
    }
    // A field Visual Layer broke throws UPSTREAM_CONTRACT here: the request cannot be checked.
    const model = mapModel(record, onUnknown)
    const named = `model ${quote(model.id)} (${model.name})`
    if (model.type !== requested.type) {
      problems.push(`${at}: ${named} produces ${model.type}, not ${requested.type}: give it with type ${model.type}.`)
    }
    if (!model.isActive) {
      problems.push(`${at}: ${named} is ${record.value.status}, and only Active models can be applied.`)
    }
    for (const dependency of model.dependencies) {
      if (!requestedTypes.has(dependency)) unmet.push({ index, modelId: model.id, type: requested.type, dependency })
    }
  })
  return { problems, unmet }
}

/** Dependencies neither requested nor in the dataset's applied enrichments. */
export function missingDependencies (unmet: ModelCheck['unmet'], applied: Readonly<Record<string, string>>): string[] {
  return unmet
    .filter((need) => !(need.dependency in applied))
    .map(
      (need) => `models[${need.index}]: model ${quote(need.modelId)} (${need.type}) depends on ${need.dependency}, which is neither in this request nor applied to the dataset: add a ${need.dependency} model to this request.`
    )
}

/** One message for every problem of a request. */
export function problemsMessage (datasetId: string, problems: readonly string[]): string {
  const listed = problems.length === 1 ? problems[0] : problems.map((problem, i) => `(${i + 1}) ${problem}`).join(' ')
  const count = problems.length === 1 ? 'one problem' : `${problems.length} problems`
  return `Dataset ${datasetId} was not enriched, and nothing was sent to Visual Layer: the request has ${count}. ${listed}`
}

function listing (items: readonly string[]): string {
  return items.length <= 2 ? items.join(' and ') : `${items.slice(0, -1).join(', ')} and ${items.at(-1) ?? ''}`
}

function quote (text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text)
}
