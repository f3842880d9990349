import { matchesGlob } from './glob.js'

export interface CallRecord {
  method: string
  path: string
  query: Record<string, string>
  apiKey: string | null
  /** The caller's `x-request-id` header, so a client can prove it forwards its request ids. */
  requestId: string | null
  /** The W3C `traceparent` header, when the caller sent one (a traced gateway does). */
  traceparent?: string
  /** Every request header, only when the emulator was started with `recordHeaders` (what a client forwards). */
  headers?: Record<string, string>
  /** Final HTTP status; 0 while unanswered or when the connection was dropped. */
  status: number
  /** ISO time on the emulator clock when the call arrived. */
  at: string
}

export interface CallFilter {
  method?: string
  /** Glob: `*` within a segment, `**` across segments. */
  path?: string
}

export interface CallLog {
  /** Records an arriving call, in arrival order; the caller sets `status` when it is answered. */
  open(record: CallRecord): CallRecord
  list(filter?: CallFilter): CallRecord[]
  clear(): void
}

export function createCallLog (): CallLog {
  let records: CallRecord[] = []
  return {
    open (record) {
      records.push(record)
      return record
    },
    list (filter = {}) {
      return records
        .filter((record) => filter.method === undefined || record.method === filter.method.toUpperCase())
        .filter((record) => filter.path === undefined || matchesGlob(filter.path, record.path))
        .map((record) => ({ ...record, query: { ...record.query } }))
    },
    clear () {
      records = []
    }
  }
}
