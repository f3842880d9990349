/*
 * What the attacker is answered, as text to compare whole: request ids (a fresh UUID each) and
 * "try again in" delays (a clock's) are the only parts replaced, by fixed markers.
 */

export const TYPENAME = '{"data":{"__typename":"Query"}}'

/** A subscription whose argument the resolver refuses before any upstream call, for attacks that must cost Visual Layer nothing. */
export const BAD_ID_SUBSCRIPTION = 'subscription S($id: ID!) { datasetStatusChanged(datasetId: $id) { id status } }'
export const BAD_ID = 'nope'

/** The one error of BAD_ID_SUBSCRIPTION with BAD_ID, as JSON text (request id replaced). */
export const BAD_ID_ERRORS = '{"errors":[{"message":"Argument datasetId must be a Visual Layer id (a UUID such as ad48d250-1232-11f1-bfca-fa39f6ed1f22); got \\"nope\\".",' +
  '"locations":[{"line":1,"column":28}],"path":["datasetStatusChanged"],"extensions":{"code":"BAD_USER_INPUT","requestId":"<id>"}}]}'

/** Request ids and retry delays replaced by markers, so that answers compare whole. */
export function normalised (text: string): string {
  return text
    .replace(/"requestId":"[^"]*"/g, '"requestId":"<id>"')
    .replace(/x-request-id: [^\r\n]+/gi, 'x-request-id: <id>')
    .replace(/Try again in \d+ (s|seconds?|minutes?)\b/g, 'Try again in <n> <unit>')
}

/** `status text` of an answer, normalised. */
export function statusAndBody (answer: { status: number, text: string }): string {
  return `${answer.status} ${normalised(answer.text)}`
}

/** A list of equal answers as `{ answer: count }`, so that hundreds compare in one line of a failure. */
export function tally (answers: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const answer of answers) counts[answer] = (counts[answer] ?? 0) + 1
  return counts
}

/** The gateway's GraphQL error body with one error, as JSON text (request id replaced). */
export function errorBody (message: string, code: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ data: null, errors: [{ message, extensions: { code, requestId: '<id>', ...extra } }] })
}

/** 431 of Node's header limit, in the gateway's shape, as the raw head and body a socket receives. */
export const HEADERS_TOO_LARGE = 'HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 305\r\n' +
  'x-request-id: <id>\r\nConnection: close\r\n\r\n' +
  errorBody('The request\'s headers are larger than the gateway accepts (16384 bytes in all). A Visual Layer JWT is far smaller: check the Authorization header, and any cookies sent with it.', 'QUERY_REJECTED')
