import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import { ApiError } from '../api-error.js'
import type { CallLog } from '../call-log.js'
import type { Clock } from '../clock.js'
import type { FaultBox } from '../faults.js'
import type { Holds } from '../holds.js'
import type { EmulatorState } from '../records.js'
import { faultSpecSchema } from '../faults.js'
import type { Latency } from '../latency.js'
import { latencyMsSchema } from '../latency.js'
import { parseJsonBody } from '../json-body.js'
import type { RawQuery } from '../request-validation.js'
import type { RouteSpec } from '../route-context.js'
import { formatIso } from '../time-format.js'
import { NEW_WORK_INIT_MS } from '../timings.js'

/** The emulator's own control API: no auth, not in the call log, never faulted. */
export interface Controls {
  readonly clock: Clock
  readonly calls: CallLog
  readonly faults: FaultBox
  readonly holds: Holds
  readonly latency: Latency
  state(): EmulatorState
  reset(): void
}

const clockChangeSchema = z.union([
  z.strictObject({ advanceMs: z.number().finite().min(0) }),
  z.strictObject({ set: z.iso.datetime({ offset: true }) })
])

/** Tasks added to a dataset (REINDEX, by its creator), one every `everyMs`, the last starting now. */
const taskBatchSchema = z.strictObject({
  datasetId: z.string(),
  count: z.number().int().min(1).max(1000),
  everyMs: z.number().int().min(0).default(1000),
  runMs: z.number().int().min(1).default(600_000)
})

const latencyChangeSchema = z.strictObject({ latencyMs: latencyMsSchema })

const callFilterSchema = z.object({
  method: z.string().optional(),
  path: z.string().optional()
})

/** Parses a JSON body with a zod schema; 400 naming what is wrong. */
function bodyOf<T> (raw: unknown, schema: z.ZodType<T>, expected: string): T {
  const body = parseJsonBody(raw)
  if (!body.ok) throw new ApiError(400, `Body is not valid JSON; expected ${expected}`)
  const parsed = schema.safeParse(body.value)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ')
    throw new ApiError(400, `Invalid body (${problems}); expected ${expected}`)
  }
  return parsed.data
}

export function controlRoutes (controls: Controls): RouteSpec[] {
  const clockJson = () => ({ now: formatIso(controls.clock.now()) })
  return [
    {
      method: 'POST',
      url: '/_emulator/reset',
      handler: async () => {
        controls.reset()
        return { reset: true, now: formatIso(controls.clock.now()) }
      }
    },
    { method: 'GET', url: '/_emulator/clock', handler: async () => clockJson() },
    {
      method: 'POST',
      url: '/_emulator/clock',
      handler: async (request) => {
        const change = bodyOf(request.body, clockChangeSchema, '{"advanceMs": <ms >= 0>} or {"set": "<ISO datetime>"}')
        if ('advanceMs' in change) {
          controls.clock.advance(change.advanceMs)
        } else {
          const target = Date.parse(change.set)
          if (target < controls.clock.now()) {
            throw new ApiError(400, `The emulator clock never moves backwards (now ${formatIso(controls.clock.now())}); use reset to start over`)
          }
          controls.clock.set(target)
        }
        return clockJson()
      }
    },
    {
      method: 'POST',
      url: '/_emulator/tasks',
      handler: async (request) => {
        const batch = bodyOf(request.body, taskBatchSchema, '{"datasetId": "<id>", "count": <1..1000>, "everyMs"?: <ms>, "runMs"?: <ms>}')
        const state = controls.state()
        const dataset = state.datasets.get(batch.datasetId)
        if (dataset === undefined) throw new ApiError(404, `No dataset ${batch.datasetId}`)
        const now = controls.clock.now()
        const ids: string[] = []
        for (let i = batch.count - 1; i >= 0; i--) {
          const id = randomUUID()
          state.tasks.set(id, {
            id,
            accountKey: dataset.accountKey,
            datasetId: dataset.id,
            type: 'REINDEX',
            createdBy: dataset.createdBy,
            startMs: now - i * batch.everyMs,
            initMs: NEW_WORK_INIT_MS,
            runMs: batch.runMs,
            failure: null,
            abortedAtMs: null
          })
          ids.push(id)
        }
        return { tasks: ids }
      }
    },
    {
      method: 'GET',
      url: '/_emulator/calls',
      handler: async (request) => {
        const filter = callFilterSchema.safeParse(request.query as RawQuery)
        if (!filter.success) throw new ApiError(400, 'method and path must each be given once')
        return controls.calls.list(filter.data)
      }
    },
    {
      method: 'DELETE',
      url: '/_emulator/calls',
      handler: async () => {
        controls.calls.clear()
        return { cleared: true }
      }
    },
    { method: 'GET', url: '/_emulator/latency', handler: async () => ({ latencyMs: controls.latency.ms }) },
    {
      method: 'POST',
      url: '/_emulator/latency',
      handler: async (request) => {
        const change = bodyOf(request.body, latencyChangeSchema, '{"latencyMs": <integer ms, 0 to 60000>}')
        controls.latency.set(change.latencyMs)
        return { latencyMs: controls.latency.ms }
      }
    },
    {
      method: 'POST',
      url: '/_emulator/faults',
      handler: async (request) => {
        const spec = bodyOf(
          request.body,
          faultSpecSchema,
          'a fault: {"path": "/api/v1/**", "status"?, "body"?, "headers"?, "delayMs"?, "drop"?, "hold"?, "times"?, "method"?}'
        )
        controls.faults.inject(spec)
        return { injected: spec }
      }
    },
    {
      method: 'DELETE',
      url: '/_emulator/faults',
      handler: async () => {
        controls.faults.clear()
        controls.holds.releaseAll()
        return { cleared: true }
      }
    },
    {
      method: 'GET',
      url: '/_emulator/holds/:name',
      handler: async (request) => ({ held: controls.holds.count((request.params as { name: string }).name) })
    },
    {
      method: 'POST',
      url: '/_emulator/holds/:name/release',
      handler: async (request) => ({ released: controls.holds.release((request.params as { name: string }).name) })
    }
  ]
}
