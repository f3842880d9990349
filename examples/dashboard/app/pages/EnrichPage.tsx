import { useState, type FormEvent } from 'react'
import { useMutation, useQuery } from 'urql'
import { problemsOf, type GatewayProblem } from '../client.js'
import { EnrichDatasetMutation, EnrichmentModelsQuery } from '../documents.js'
import { Problems, Status } from '../Problems.js'
import { href, navigate } from '../route.js'

/**
 * The enrichment form: the dataset's models (one per enrichment type can be chosen; models that are
 * not Active are shown, not offered), then enrichDataset. The gateway checks the request before
 * anything reaches Visual Layer, and its answer is shown where it belongs: a problem with the
 * models (BAD_USER_INPUT, e.g. a missing dependency) under the models, with the models it names
 * marked; any other refusal (the dataset is not READY, the account's rate limit) by the button.
 * Each distinct request gets its own idempotency key, kept while the choice stays the same, so a
 * second click or a retry after a lost answer builds no second copy.
 */
export function EnrichPage ({ id }: { id: string }) {
  const [{ data, fetching, error }] = useQuery({ query: EnrichmentModelsQuery, variables: { id } })
  const [chosen, setChosen] = useState<Record<string, string>>({})
  const [idempotencyKey, setIdempotencyKey] = useState(newKey)
  const [sent, enrich] = useMutation(EnrichDatasetMutation)
  const [problems, setProblems] = useState<GatewayProblem[]>([])

  const dataset = data?.dataset
  const choose = (type: string, modelId: string, on: boolean): void => {
    setChosen((before) => {
      const after = { ...before }
      if (on) after[type] = modelId
      else delete after[type]
      return after
    })
    setIdempotencyKey(newKey())
    setProblems([])
  }
  const models = Object.entries(chosen).map(([type, modelId]) => ({ type, modelId }))
  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault()
    setProblems([])
    const result = await enrich({ datasetId: id, models, idempotencyKey })
    const copy = result.data?.enrichDataset.enrichedDatasetId
    if (result.error === undefined && copy !== undefined) navigate({ page: 'dataset', id: copy })
    else setProblems(problemsOf(result.error))
  }
  const modelProblems = problems.filter((problem) => problem.code === 'BAD_USER_INPUT')
  const otherProblems = problems.filter((problem) => problem.code !== 'BAD_USER_INPUT')
  // The models a BAD_USER_INPUT names (`models[1]: ...`), by their place in the request.
  const named = new Set(modelProblems.flatMap((problem) => [...problem.message.matchAll(/models\[(\d+)\]/g)].map((match) => models[Number(match[1])]?.modelId)))

  return (
    <section aria-labelledby='enrich-title'>
      <p className='back'><a href={href({ page: 'dataset', id })}>← Dataset</a></p>
      <Problems problems={problemsOf(error)} id='enrich-load-error' />
      {fetching && data === undefined ? <p className='loading'>Loading the models…</p> : null}
      {data !== undefined && dataset === null ? <p className='empty'>Dataset {id} does not exist, or you may not see it.</p> : null}
      {dataset === null || dataset === undefined
        ? null
        : (
            <form onSubmit={(event) => { void submit(event) }} noValidate>
              <h1 id='enrich-title'>Enrich {dataset.displayName}</h1>
              <p className='hint'>
                Status <Status value={dataset.status} />: Visual Layer builds an enriched copy and leaves this dataset unchanged.
                {dataset.enrichment.applied.length === 0 ? null : ` Applied already: ${dataset.enrichment.applied.map((applied) => applied.type).join(', ')}.`}
              </p>
              <fieldset aria-describedby={modelProblems.length > 0 ? 'models-error' : undefined} aria-invalid={modelProblems.length > 0}>
                <legend>Models</legend>
                {dataset.models.map((model) => (
                  <label key={model.id} className={`model${named.has(model.id) ? ' invalid' : ''}`}>
                    <input
                      type='checkbox'
                      name={model.type}
                      value={model.id}
                      disabled={!model.isActive || (chosen[model.type] !== undefined && chosen[model.type] !== model.id)}
                      checked={chosen[model.type] === model.id}
                      aria-invalid={named.has(model.id)}
                      onChange={(event) => { choose(model.type, model.id, event.target.checked) }}
                    />
                    <span className='model-name'>{model.name}</span>
                    <span className='model-type'>{model.type}{model.vendor === null || model.vendor === undefined ? '' : `, ${model.vendor}`}</span>
                    {model.isActive ? null : <span className='model-status'>{model.status}</span>}
                    {model.dependencies.length === 0 ? null : <span className='model-needs'>needs {model.dependencies.join(', ')}</span>}
                  </label>
                ))}
                <Problems problems={modelProblems} id='models-error' />
              </fieldset>
              <div className='submit-row'>
                <button type='submit' disabled={sent.fetching || models.length === 0} aria-describedby={otherProblems.length > 0 ? 'submit-error' : undefined}>
                  {sent.fetching ? 'Starting…' : 'Start enrichment'}
                </button>
                <Problems problems={otherProblems} id='submit-error' />
              </div>
            </form>
          )}
    </section>
  )
}

/** A fresh idempotency key: 128 random bits (crypto.getRandomValues works on plain http too, where randomUUID does not). */
function newKey (): string {
  return [...crypto.getRandomValues(new Uint8Array(16))].map((byte) => byte.toString(16).padStart(2, '0')).join('')
}
