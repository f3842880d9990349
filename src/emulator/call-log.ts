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

/** A call as it arrives (`status` 0), and again once answered. */
export type CallListener = (call: Readonly<CallRecord>, phase: 'arrived' | 'answered') => void

export interface CallLog {
  /** Records an arriving call, in arrival order. */
  open(record: CallRecord): CallRecord
  /** The call was answered with `status`. */
  answered(record: CallRecord, status: number): void
  list(filter?: CallFilter): CallRecord[]
  clear(): void
  /** Tells `listener` of every call from now on, as it arrives and as it is answered (a test waits for one); the function returned stops. */
  watch(listener: CallListener): () => void
}

export function createCallLog (): CallLog {
  let records: CallRecord[] = []
  const listeners = new Set<CallListener>()
  const tell = (record: CallRecord, phase: 'arrived' | 'answered'): void => {
    for (const listener of [...listeners]) listener({ ...record, query: { ...record.query } }, phase)
  }
  return {
    open (record) {
      records.push(record)
      tell(record, 'arrived')
      return record
    },
    answered (record, status) {
      record.status = status
      tell(record, 'answered')
    },
    watch (listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
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
