import type { UpstreamTaskPage } from '../../upstream/schemas.js'
import type { TaskParent } from '../parents.js'
import { mapTask } from './task.js'
import type { UnknownValueReporter } from './values.js'

/* A page of Visual Layer's task list as the contract's TaskPage. */

export interface TaskPageParent {
  nodes: TaskParent[]
  total: number
  page: number
  pageSize: number
  hasNextPage: boolean
}

export function mapTaskPage (record: UpstreamTaskPage, onUnknown: UnknownValueReporter): TaskPageParent {
  return {
    nodes: record.tasks.map((task) => mapTask(task, onUnknown)),
    total: record.total,
    page: record.page,
    pageSize: record.page_size,
    hasNextPage: record.page * record.page_size < record.total
  }
}
