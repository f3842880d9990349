import { useState } from 'react'
import { useMutation, useQuery } from 'urql'
import { problemsOf, type GatewayProblem } from '../client.js'
import { AbortTaskMutation, RetryTaskMutation, TasksQuery } from '../documents.js'
import type { DashboardTasksQuery, TaskStatus } from '../gql/graphql.js'
import { Problems, Status } from '../Problems.js'
import { href } from '../route.js'
import { formatDate } from './DatasetsPage.js'

type TaskNode = DashboardTasksQuery['tasks']['nodes'][number]
const STATUSES: readonly TaskStatus[] = ['INITIALIZING', 'RUNNING', 'COMPLETED', 'FAILED', 'ABORTED']

/** The task manager: tasks newest first, ten a page, filtered by status; abort and retry where the gateway says they can succeed. */
export function TasksPage () {
  const [status, setStatus] = useState<TaskStatus | ''>('')
  const [page, setPage] = useState(1)
  const variables = { filter: status === '' ? null : { status }, page }
  const [{ data, fetching, error }, refresh] = useQuery({ query: TasksQuery, variables })
  const tasks = data?.tasks

  return (
    <section aria-labelledby='tasks-title'>
      <div className='title-row'>
        <h1 id='tasks-title'>Tasks</h1>
        <label className='filter'>
          Status{' '}
          <select value={status} onChange={(event) => { setStatus(event.target.value as TaskStatus | ''); setPage(1) }}>
            <option value=''>All</option>
            {STATUSES.map((value) => <option key={value} value={value}>{value}</option>)}
          </select>
        </label>
        <button type='button' onClick={() => { refresh() }} disabled={fetching}>Refresh</button>
      </div>
      <Problems problems={problemsOf(error)} id='tasks-error' />
      {tasks === undefined
        ? (fetching ? <p className='loading'>Loading tasks…</p> : null)
        : (
            <>
              <table className='tasks'>
                <thead>
                  <tr><th>Type</th><th>Dataset</th><th>Status</th><th>Progress</th><th>Started</th><th>By</th><th>Actions</th></tr>
                </thead>
                <tbody>
                  {tasks.nodes.map((task) => <TaskRow key={task.id} task={task} onChanged={() => { refresh() }} />)}
                </tbody>
              </table>
              <div className='pager'>
                <button type='button' disabled={page === 1 || fetching} onClick={() => { setPage(page - 1) }}>Previous</button>
                <span className='page-info'>Page {tasks.page} of {Math.max(1, Math.ceil(tasks.total / tasks.pageSize))}, {tasks.total} tasks</span>
                <button type='button' disabled={!tasks.hasNextPage || fetching} onClick={() => { setPage(page + 1) }}>Next</button>
              </div>
            </>
          )}
    </section>
  )
}

/** One task, with its abort and retry buttons; a refusal is shown by the button that was pressed. */
function TaskRow ({ task, onChanged }: { task: TaskNode, onChanged: () => void }) {
  const [aborting, abort] = useMutation(AbortTaskMutation)
  const [retrying, retry] = useMutation(RetryTaskMutation)
  const [problems, setProblems] = useState<{ action: 'abort' | 'retry', list: GatewayProblem[] } | null>(null)
  const run = async (action: 'abort' | 'retry'): Promise<void> => {
    setProblems(null)
    const result = action === 'abort' ? await abort({ taskId: task.id }) : await retry({ taskId: task.id })
    if (result.error !== undefined) setProblems({ action, list: problemsOf(result.error) })
    else onChanged()
  }
  const busy = aborting.fetching || retrying.fetching
  return (
    <tr data-id={task.id}>
      <td>{task.type}</td>
      <td><a href={href({ page: 'dataset', id: task.datasetId })}>{task.datasetName ?? task.datasetId}</a></td>
      <td>
        <Status value={task.status} />
        {task.errorMessage === null || task.errorMessage === undefined ? null : <small className='task-error'>{task.errorMessage}</small>}
      </td>
      <td className='number'>{task.progress === null || task.progress === undefined ? '—' : `${task.progress}%`}</td>
      <td>{formatDate(task.startTime)}</td>
      <td>{task.createdBy ?? '—'}</td>
      <td className='actions'>
        {task.canAbort ? <button type='button' disabled={busy} onClick={() => { void run('abort') }}>Abort</button> : null}
        {task.canRetry ? <button type='button' disabled={busy} onClick={() => { void run('retry') }}>Retry</button> : null}
        {problems === null ? null : <Problems problems={problems.list} id={`task-${task.id}-${problems.action}-error`} />}
      </td>
    </tr>
  )
}
