/** The one request client: a typed openapi-fetch client over the generated schema, with the
 * bearer token, Accept-Language, and every failure turned into an `ApiError`. */
import createClient from 'openapi-fetch'
import type { paths } from './schema'
import { ApiError, networkError, toApiError } from './errors'
import { currentLocale, t, i18n } from '@/locales'

export interface RequestHooks {
  token: () => string | null
  /** A request with a token came back 401: the login has expired or was revoked. */
  unauthorized: (error: ApiError) => void
}

export const hooks: RequestHooks = { token: () => null, unauthorized: () => {} }

export function translateFieldType(type: string): string | null {
  const key = `errors.field.${type}`
  return i18n.global.te(key) ? t(key) : null
}

export function commonHeaders(): Record<string, string> {
  const headers: Record<string, string> = { 'Accept-Language': currentLocale() }
  const token = hooks.token()
  if (token) headers.Authorization = `Bearer ${token}`
  return headers
}

/** Maps a finished response to an ApiError (or null when it succeeded). */
export async function errorOf(response: Response, hadToken: boolean): Promise<ApiError | null> {
  if (response.ok) return null
  let body: unknown = null
  try {
    body = await response.clone().json()
  } catch {
    body = null
  }
  const fallback = response.status >= 500 ? t('errors.server') : `HTTP ${response.status}`
  const error = toApiError(response.status, body, translateFieldType, fallback)
  if (response.status === 401 && hadToken) hooks.unauthorized(error)
  return error
}

async function shiyuFetch(request: Request): Promise<Response> {
  const hadToken = request.headers.has('Authorization')
  let response: Response
  try {
    response = await fetch(request)
  } catch {
    throw networkError(t('errors.network'))
  }
  const error = await errorOf(response, hadToken)
  if (error) throw error
  return response
}

export const client = createClient<paths>({ baseUrl: '', fetch: shiyuFetch })

client.use({
  onRequest({ request }) {
    for (const [name, value] of Object.entries(commonHeaders())) request.headers.set(name, value)
    return request
  },
})

/** Every failure is thrown by `shiyuFetch`, so a settled call always carries its data. */
export async function ok<T>(call: Promise<{ data?: T; error?: unknown }>): Promise<T> {
  const { data } = await call
  return data as T
}

export { ApiError }
