import { GatewayError } from '../../errors.js'
import type { Checked } from '../../upstream/checked.js'
import type { CallOptions, TaskListParams, VisualLayerClient } from '../../upstream/client.js'
import type { UpstreamTask } from '../../upstream/schemas.js'

/*
 * One task of a dataset watched by id when it is not among the dataset's newest page. Finding it
 * pages the dataset's task list (at most MAX_PAGES pages); after that each poll is one GET narrowed
 * to the second the task started (Visual Layer writes task times to the second), or to the page it
 * was found on when its start time is unknown. A task that left that window (a retry restarts it)
 * is looked for again from the first page.
 */

export const LOOKUP_PAGE_SIZE = 50
export const LOOKUP_MAX_PAGES = 10

export class TaskLookup {
  /** Where the task was last seen: the query that finds it in one GET. */
  private narrow: TaskListParams | null = null

  constructor (private readonly vl: VisualLayerClient, private readonly datasetId: string, private readonly taskId: string) {}

  /** The task as a one-task list (the shape of the dataset's task poller), or NOT_FOUND. */
  async fetch (call: CallOptions): Promise<Array<Checked<UpstreamTask>>> {
    if (this.narrow !== null) {
      const found = this.find((await this.vl.listTasks(this.narrow, call)).tasks)
      if (found !== undefined) return [found]
    }
    // The first look starts after the newest page, which the subscription has already searched.
    return [await this.locate(this.narrow === null ? 2 : 1, call)]
  }

  private async locate (firstPage: number, call: CallOptions): Promise<Checked<UpstreamTask>> {
    let looked = 0
    for (let page = firstPage; page <= LOOKUP_MAX_PAGES; page++) {
      const answer = await this.vl.listTasks(this.params({ page, page_size: LOOKUP_PAGE_SIZE }), call)
      const found = this.find(answer.tasks)
      if (found !== undefined) {
        this.narrow = this.params(narrowing(found.value.start_time) ?? { page, page_size: LOOKUP_PAGE_SIZE })
        return found
      }
      looked = Math.min(answer.total, page * LOOKUP_PAGE_SIZE)
      if (page * LOOKUP_PAGE_SIZE >= answer.total) break
    }
    this.narrow = null
    throw new GatewayError('NOT_FOUND', `Task ${this.taskId} is not among the ${looked} most recent tasks of dataset ${this.datasetId}, or you may not see it.`)
  }

  private params (extra: TaskListParams): TaskListParams {
    return { dataset_id: this.datasetId, sort_by: 'start_time', sort_order: 'desc', ...extra }
  }

  private find (tasks: ReadonlyArray<Checked<UpstreamTask>>): Checked<UpstreamTask> | undefined {
    return tasks.find((task) => task.value.task_id === this.taskId)
  }
}

/** The second a task started, as an inclusive time range (Visual Layer writes task times to the second). */
function narrowing (startTime: string | null | undefined): TaskListParams | null {
  const ms = startTime == null ? NaN : Date.parse(startTime)
  if (Number.isNaN(ms)) return null
  const from = Math.floor(ms / 1000) * 1000
  return {
    start_time_from: new Date(from).toISOString(),
    start_time_to: new Date(from + 999).toISOString(),
    page: 1,
    page_size: LOOKUP_PAGE_SIZE
  }
}
