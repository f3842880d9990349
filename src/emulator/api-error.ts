/**
 * Every emulator answer that is not a success is an ApiError: Visual Layer's `{"detail": ...}`
 * body, a string for most errors or FastAPI's list of validation items for 422.
 */
export interface ValidationItem {
  readonly type: string
  readonly loc: ReadonlyArray<string | number>
  readonly msg: string
  readonly input: unknown
  readonly ctx?: Readonly<Record<string, unknown>>
}

export class ApiError extends Error {
  readonly statusCode: number
  readonly detail: string | readonly ValidationItem[]
  readonly headers: Readonly<Record<string, string>>

  constructor (statusCode: number, detail: string | readonly ValidationItem[], headers: Record<string, string> = {}) {
    super(typeof detail === 'string' ? detail : 'Request validation failed')
    this.name = 'ApiError'
    this.statusCode = statusCode
    this.detail = detail
    this.headers = headers
  }
}

export const datasetNotFound = (): ApiError => new ApiError(404, 'Dataset not found')
export const taskNotFound = (): ApiError => new ApiError(404, 'Task not found')

export function unauthorized (detail: string): ApiError {
  return new ApiError(401, detail, { 'www-authenticate': 'Bearer' })
}

export function validationFailed (items: readonly ValidationItem[]): ApiError {
  return new ApiError(422, items)
}
