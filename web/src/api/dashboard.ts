import type { components } from './schema'
import { client, commonHeaders, errorOf, ok } from './request'

export type DashboardSummary = components['schemas']['DashboardSummary']
export type DashboardLoad = components['schemas']['DashboardLoad']
export type Level = components['schemas']['Level']
export type FeatureCollection = components['schemas']['FeatureCollection']

export const getSummary = (jurisdiction?: string): Promise<DashboardSummary> =>
  ok(client.GET('/api/v1/dashboard/summary', { params: { query: { jurisdiction } } }))

export const getLoad = (jurisdiction: string, level?: Level): Promise<DashboardLoad> =>
  ok(client.GET('/api/v1/dashboard/load', { params: { query: { jurisdiction, level } } }))

export const getFeatures = (code: string, level: Level): Promise<FeatureCollection> =>
  ok(client.GET('/api/v1/jurisdictions/{code}/features', { params: { path: { code }, query: { level } } }))

/** One item of a warnings or hot-issues list. Those endpoints come from another part of the
 * platform and may be absent (404): the page then shows its empty state. */
export interface Notice {
  title: string
  detail: string
  count: number | null
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : ''
}

/** Reads the common shapes (`{items: [...]}` or a bare list) without trusting any field. */
export function toNotices(body: unknown): Notice[] {
  const list = Array.isArray(body) ? body : body && typeof body === 'object' && Array.isArray((body as { items?: unknown }).items) ? (body as { items: unknown[] }).items : []
  return list
    .filter((row): row is Record<string, unknown> => !!row && typeof row === 'object')
    .map((row) => ({
      title: text(row.title) || text(row.name) || text(row.keyword) || text(row.topic) || text(row.summary) || text(row.code),
      detail: text(row.place) || text(row.level) || text(row.kind) || text(row.category_name) || text(row.category) || text(row.reason),
      count: typeof row.count === 'number' ? row.count : typeof row.event_count === 'number' ? row.event_count : typeof row.messages === 'number' ? row.messages : null,
    }))
    .filter((n) => n.title)
}

/** null when the endpoint does not exist here (404/405); throws on other failures. */
export async function getOptionalList(path: string, jurisdiction: string): Promise<Notice[] | null> {
  const url = `${path}?${new URLSearchParams({ jurisdiction })}`
  const response = await fetch(url, { headers: commonHeaders() })
  if (response.status === 404 || response.status === 405) return null
  const error = await errorOf(response, true)
  if (error) throw error
  return toNotices(await response.json())
}
