import { useQuery } from 'urql'
import { problemsOf } from '../client.js'
import { DatasetsQuery } from '../documents.js'
import { Problems, Status } from '../Problems.js'
import { href } from '../route.js'

/** Every dataset the caller can see, newest first, with a way to enrich the READY ones. */
export function DatasetsPage () {
  const [{ data, fetching, error }, refresh] = useQuery({ query: DatasetsQuery })
  return (
    <section aria-labelledby='datasets-title'>
      <div className='title-row'>
        <h1 id='datasets-title'>Datasets</h1>
        <button type='button' onClick={() => { refresh() }} disabled={fetching}>Refresh</button>
      </div>
      <Problems problems={problemsOf(error)} id='datasets-error' />
      {data === undefined
        ? (fetching ? <p className='loading'>Loading datasets…</p> : null)
        : (
            <table className='datasets'>
              <thead>
                <tr><th>Name</th><th>Status</th><th>Progress</th><th>Images</th><th>Objects</th><th>Created</th><th /></tr>
              </thead>
              <tbody>
                {data.datasets.map((dataset) => (
                  <tr key={dataset.id} data-id={dataset.id}>
                    <td>
                      <a href={href({ page: 'dataset', id: dataset.id })}>{dataset.displayName}</a>
                      {dataset.sourceDataset === null || dataset.sourceDataset === undefined
                        ? null
                        : <small className='source'> from {dataset.sourceDataset.displayName}</small>}
                    </td>
                    <td><Status value={dataset.status} /></td>
                    <td className='number'>{dataset.progress}%</td>
                    <td className='number'>{dataset.imageCount.toLocaleString('en-US')}</td>
                    <td className='number'>{dataset.objectCount.toLocaleString('en-US')}</td>
                    <td>{formatDate(dataset.createdAt)}</td>
                    <td>{dataset.status === 'READY' ? <a className='action' href={href({ page: 'enrich', id: dataset.id })}>Enrich</a> : null}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
    </section>
  )
}

/** A date as UTC, the same for every viewer: `2026-02-09 04:14`. */
export function formatDate (value: string | null | undefined): string {
  if (value === null || value === undefined) return '—'
  return value.replace('T', ' ').slice(0, 16)
}
