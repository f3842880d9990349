/*
 * The floor of the bench: a bare Fastify route per operation, no GraphQL, doing the upstream calls a
 * hand-written backend makes (undici Pool, as many connections as the gateway's default) and mapping
 * exactly the fields the bench's queries select, by hand. Answers have the GraphQL response's shape
 * ({ data: ... }) so that the bench checks every server's answers the same way. The caller's
 * Authorization header is forwarded to Visual Layer (passthrough). VL_BASE_URL: the emulator.
 */
import Fastify from 'fastify'
import { Pool } from 'undici'
import { answerControl } from './control.mjs'
import { datasetStatus, iso, percent, taskStatus, taskType } from './mapping.mjs'

const upstream = new Pool(process.env.VL_BASE_URL, { connections: 64 })

async function visualLayer (path, authorization) {
  const { statusCode, body } = await upstream.request({ method: 'GET', path, headers: { authorization } })
  if (statusCode === 404) {
    await body.dump()
    return null
  }
  if (statusCode !== 200) {
    await body.dump()
    throw new Error(`Visual Layer answered ${statusCode} to ${path}`)
  }
  return await body.json()
}

const app = Fastify({ logger: false })

// dataset(id) { id displayName status progress imageCount videoCount createdAt isReady }
app.get('/dataset/:id', async (request) => {
  const record = await visualLayer(`/api/v1/dataset/${encodeURIComponent(request.params.id)}`, request.headers.authorization)
  if (record === null) return { data: { dataset: null } }
  const status = datasetStatus(record.status_new ?? record.status)
  return {
    data: {
      dataset: {
        id: record.id,
        displayName: record.display_name,
        status,
        progress: record.progress === null || record.progress === undefined ? (status === 'READY' ? 100 : 0) : percent(record.progress),
        imageCount: record.n_images,
        videoCount: record.n_videos,
        createdAt: iso(record.created_at),
        isReady: status === 'READY'
      }
    }
  }
})

// tasks(pageSize: 50) { total nodes { id type status progress startTime dataset { id displayName } } }
// (?pageSize=N: the variables case, a page size of its own per request)
app.get('/task-page', async (request) => {
  const authorization = request.headers.authorization
  const pageSize = Number(request.query.pageSize ?? 50)
  const page = await visualLayer(`/api/v1/tasks?page=1&page_size=${pageSize}`, authorization)
  const ids = [...new Set(page.tasks.map((task) => task.dataset_id))]
  const records = await Promise.all(ids.map((id) => visualLayer(`/api/v1/dataset/${encodeURIComponent(id)}`, authorization)))
  const datasets = new Map(ids.map((id, i) => [id, records[i]]))
  return {
    data: {
      tasks: {
        total: page.total,
        nodes: page.tasks.map((task) => {
          const dataset = datasets.get(task.dataset_id)
          return {
            id: task.task_id,
            type: taskType(task.task_type),
            status: taskStatus(task.status),
            progress: task.progress_percentage === null || task.progress_percentage === undefined ? null : percent(task.progress_percentage),
            startTime: iso(task.start_time),
            dataset: dataset === null ? null : { id: dataset.id, displayName: dataset.display_name }
          }
        })
      }
    }
  }
})

answerControl(async () => {
  await app.close()
  await upstream.close()
})
const url = await app.listen({ host: '127.0.0.1', port: 0 })
process.send?.({ type: 'ready', url })
