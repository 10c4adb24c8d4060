/** The API's one error shape, `{"error": {"code", "message", "details"}}`, turned into an
 * `ApiError` whose field errors a form can show next to its inputs. Pure: unit-tested. */

export interface ErrorDetail {
  loc?: (string | number)[]
  msg?: string
  type?: string | null
  [key: string]: unknown
}

/** Translates a pydantic error type ("missing", "string_too_long" …) or returns null. */
export type FieldMessage = (type: string) => string | null

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly details: ErrorDetail[]
  /** field name → message, for `ElFormItem :error` */
  readonly fields: Record<string, string>

  constructor(status: number, code: string, message: string, details: ErrorDetail[] = [], fields: Record<string, string> = {}) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.details = details
    this.fields = fields
  }

  get isNetwork(): boolean {
    return this.status === 0
  }
}

const LOCATIONS = new Set(['body', 'query', 'path', 'header', 'form'])

/** The form field an error detail is about: the first name after body/query/path. Nested
 * items (`["body", "assist_department_ids", 2]`) belong to their list field. */
export function fieldOf(detail: ErrorDetail): string | null {
  const loc = detail.loc ?? []
  const rest = LOCATIONS.has(String(loc[0])) ? loc.slice(1) : loc
  const name = rest.find((part) => typeof part === 'string')
  return typeof name === 'string' ? name : null
}

export function fieldErrors(details: ErrorDetail[], translate: FieldMessage): Record<string, string> {
  const out: Record<string, string> = {}
  for (const detail of details) {
    const field = fieldOf(detail)
    if (!field || out[field]) continue
    out[field] = (detail.type && translate(detail.type)) || detail.msg || ''
  }
  return out
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Builds the error from a non-2xx answer; a body that is not ours (a proxy's HTML page)
 * still gives a readable message. */
export function toApiError(status: number, body: unknown, translate: FieldMessage, fallback: string): ApiError {
  const error = isRecord(body) && isRecord(body.error) ? body.error : null
  if (!error) return new ApiError(status, `http_${status}`, fallback)
  const details = Array.isArray(error.details) ? (error.details.filter(isRecord) as ErrorDetail[]) : []
  const message = typeof error.message === 'string' && error.message ? error.message : fallback
  const code = typeof error.code === 'string' ? error.code : `http_${status}`
  return new ApiError(status, code, message, details, fieldErrors(details, translate))
}

export function networkError(message: string): ApiError {
  return new ApiError(0, 'network', message)
}
