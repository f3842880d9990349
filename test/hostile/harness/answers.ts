/*
 * What the attacker is answered, as text to compare whole: request ids (a fresh UUID each) and
 * "try again in" delays (a clock's) are the only parts replaced, by fixed markers.
 */

export const TYPENAME = '{"data":{"__typename":"Query"}}'

/** A subscription whose argument the resolver refuses before any upstream call, for attacks that must cost Visual Layer nothing. */
export const BAD_ID_SUBSCRIPTION = 'subscription S($id: ID!) { datasetStatusChanged(datasetId: $id) { id status } }'
export const BAD_ID = 'nope'

/** JSON text with every object's keys in order: the order of keys is no part of an answer. */
export function canonical (value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => inner !== null && typeof inner === 'object' && !Array.isArray(inner)
    ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0))
    : inner)
}

/** The one error of BAD_ID_SUBSCRIPTION with BAD_ID, as canonical JSON text (request id replaced). */
export const BAD_ID_ERRORS = canonical({
  errors: [{
    message: 'Argument datasetId must be a Visual Layer id (a UUID such as ad48d250-1232-11f1-bfca-fa39f6ed1f22); got "nope".',
    locations: [{ line: 1, column: 28 }],
    path: ['datasetStatusChanged'],
    extensions: { code: 'BAD_USER_INPUT', requestId: '<id>' }
  }]
})

/** Request ids and retry delays replaced by markers, so that answers compare whole. */
export function normalised (text: string): string {
  return text
    .replace(/"requestId":"[^"]*"/g, '"requestId":"<id>"')
    .replace(/x-request-id: [^\r\n]+/gi, 'x-request-id: <id>')
    .replace(/Try again in \d+ (s|seconds?|minutes?)\b/g, 'Try again in <n> <unit>')
}

/** `status body` of an answer, normalised: a JSON body in canonical form, and so each `data:` line of an event stream. */
export function statusAndBody (answer: { status: number, text: string }): string {
  const text = normalised(answer.text)
  try {
    return `${answer.status} ${canonical(JSON.parse(text))}`
  } catch {
    return `${answer.status} ${text.replace(/^data: (\{.*\})$/gm, (line, json: string) => {
      try { return `data: ${canonical(JSON.parse(json))}` } catch { return line }
    })}`
  }
}

/** A list of equal answers as `{ answer: count }`, so that hundreds compare in one line of a failure. */
export function tally (answers: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const answer of answers) counts[answer] = (counts[answer] ?? 0) + 1
  return counts
}

/** The first response a raw socket received, as `status content-type body` (a JSON body canonical, request ids replaced); '' for none. */
export function rawAnswer (received: string): string {
  const end = received.indexOf('\r\n\r\n')
  if (end === -1) return received
  const head = received.slice(0, end)
  const status = /^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? '?'
  const type = /\r\ncontent-type: *([^\r]+)/i.exec(head)?.[1] ?? ''
  return statusAndBody({ status: Number(status), text: received.slice(end + 4) }).replace(/^(\d+) /, `$1 ${type} `)
}

/** The gateway's GraphQL error body with one error, as canonical JSON text (request id replaced). */
export function errorBody (message: string, code: string, extra: Record<string, unknown> = {}): string {
  return canonical({ data: null, errors: [{ message, extensions: { code, requestId: '<id>', ...extra } }] })
}

/** A REST problem (RFC 9457) as `status body`, canonical (request id replaced). */
export function problem (status: number, type: string, title: string, detail: string, code: string): string {
  return `${status} ${canonical({ type: `urn:vl-gateway:problem:${type}`, title, status, detail, code, requestId: '<id>' })}`
}

/** 431 of Node's header limit, in the gateway's shape, as rawAnswer gives it. */
export const HEADERS_TOO_LARGE = '431 application/json; charset=utf-8 ' + errorBody(
  'The request\'s URL and headers are larger than the gateway accepts (16384 bytes in all). A Visual Layer JWT is far smaller: ' +
  'check the Authorization header and any cookies sent with it, and send a long GraphQL document by POST rather than in the URL.',
  'QUERY_REJECTED'
)
