import { useQuery, useSubscription } from 'urql'
import { problemsOf } from '../client.js'
import { DatasetLiveSubscription, DatasetQuery } from '../documents.js'
import type { DashboardDatasetLiveSubscription } from '../gql/graphql.js'
import { Problems, Status } from '../Problems.js'
import { href } from '../route.js'
import { formatDate } from './DatasetsPage.js'

type LiveState = DashboardDatasetLiveSubscription['datasetStatusChanged']

/**
 * One dataset, kept live: read once, then its status, progress and counts as the gateway pushes
 * them (datasetStatusChanged with follow, over WebSocket), for as long as the page is open. Each
 * change is listed under "Live updates".
 */
export function DatasetPage ({ id }: { id: string }) {
  const [{ data, fetching, error }] = useQuery({ query: DatasetQuery, variables: { id } })
  const [live] = useSubscription(
    { query: DatasetLiveSubscription, variables: { datasetId: id } },
    (seen: LiveState[] = [], event) => [...seen, event.datasetStatusChanged]
  )
  const dataset = data?.dataset
  const updates = live.data ?? []
  const now = updates.at(-1)
  const shown = dataset === null || dataset === undefined ? undefined : { ...dataset, ...now }

  return (
    <section aria-labelledby='dataset-title'>
      <p className='back'><a href={href({ page: 'datasets' })}>← Datasets</a></p>
      <Problems problems={problemsOf(error)} id='dataset-error' />
      {fetching && data === undefined ? <p className='loading'>Loading the dataset…</p> : null}
      {data !== undefined && dataset === null ? <p className='empty'>Dataset {id} does not exist, or you may not see it.</p> : null}
      {shown === undefined
        ? null
        : (
            <>
              <div className='title-row'>
                <h1 id='dataset-title'>{shown.displayName}</h1>
                {shown.isReady ? <a className='action' href={href({ page: 'enrich', id })}>Enrich</a> : null}
              </div>
              {shown.description === null || shown.description === undefined ? null : <p className='description'>{shown.description}</p>}
              <dl className='facts'>
                <dt>Status</dt><dd id='dataset-status'><Status value={shown.status} /></dd>
                <dt>Progress</dt><dd id='dataset-progress'>{shown.progress}%</dd>
                <dt>Images</dt><dd>{shown.imageCount.toLocaleString('en-US')}</dd>
                <dt>Videos</dt><dd>{shown.videoCount.toLocaleString('en-US')}</dd>
                <dt>Objects</dt><dd>{shown.objectCount.toLocaleString('en-US')}</dd>
                <dt>Created</dt><dd>{formatDate(shown.createdAt)}</dd>
                {shown.sourceDataset === null || shown.sourceDataset === undefined
                  ? null
                  : <><dt>Enriched from</dt><dd><a href={href({ page: 'dataset', id: shown.sourceDataset.id })}>{shown.sourceDataset.displayName}</a></dd></>}
                <dt>Enrichments</dt>
                <dd>
                  {shown.enrichment.applied.length === 0
                    ? 'none'
                    : shown.enrichment.applied.map((applied) => `${applied.model?.name ?? applied.modelId} (${applied.type})`).join(', ')}
                </dd>
              </dl>
              {shown.errorMessage === null || shown.errorMessage === undefined ? null : <p className='dataset-error' role='alert'>{shown.errorMessage}</p>}
              <div className='live' aria-live='polite'>
                <h2>Live updates</h2>
                <Problems problems={problemsOf(live.error)} id='live-error' />
                <ol className='updates'>
                  {updates.map((update, index) => <li key={index}>{update.status} {update.progress}%</li>)}
                </ol>
              </div>
            </>
          )}
    </section>
  )
}
