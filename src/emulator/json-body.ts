import type { ValidationItem } from './api-error.js'

export type JsonBody = { ok: true; value: unknown } | { ok: false; item: ValidationItem }

/**
 * Bodies arrive as raw text (see app.ts) so that malformed JSON gets FastAPI's `json_invalid`
 * item instead of a framework error. An empty body parses to undefined.
 */
export function parseJsonBody (raw: unknown): JsonBody {
  if (raw === undefined || raw === null || raw === '') return { ok: true, value: undefined }
  const text = typeof raw === 'string' ? raw : String(raw)
  try {
    return { ok: true, value: JSON.parse(text) as unknown }
  } catch (error) {
    const message = error instanceof Error ? error.message : ''
    const position = /position (\d+)/.exec(message)
    // FastAPI's loc holds the character offset of the problem; a truncated body fails at its end.
    const offset = position !== null ? Number(position[1]) : /end of JSON input/.test(message) ? text.length : 0
    return {
      ok: false,
      item: { type: 'json_invalid', loc: ['body', offset], msg: 'JSON decode error', input: {}, ctx: { error: 'Expecting value' } }
    }
  }
}
