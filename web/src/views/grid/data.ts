/** The grid worker's page: the queue wired to the real API, and the report form's checks. */
import { client, ok, ApiError } from '@/api/request'
import { attach } from '@/api/events'
import type { components } from '@/api/schema'
import { IdbStore, MemoryStore, ReportQueue, type QueuedPhoto, type QueueStore } from './queue'

export type EventCreate = components['schemas']['EventCreate']

export interface GridReportForm {
  title: string
  description: string
  category_code: string
  urgency: 'normal' | 'urgent' | 'emergency'
  address: string
  lng: number | null
  lat: number | null
}

export function emptyGridReport(): GridReportForm {
  return { title: '', description: '', category_code: '', urgency: 'normal', address: '', lng: null, lat: null }
}

export function checkGridReport(form: GridReportForm, t: (key: string) => string): Record<string, string> {
  const errors: Record<string, string> = {}
  if (!form.title.trim()) errors.title = t('resident.titleRequired')
  else if (form.title.length > 200) errors.title = t('errors.field.string_too_long')
  if (form.description.length > 5000) errors.description = t('errors.field.string_too_long')
  return errors
}

/** Without a position the report goes to the worker's own grid. */
export function toCreate(form: GridReportForm, ownGrid: string | null): Record<string, unknown> {
  const body: Record<string, unknown> = { title: form.title.trim(), channel: 'grid_patrol', urgency: form.urgency }
  if (form.description.trim()) body.description = form.description.trim()
  if (form.category_code) body.category_code = form.category_code
  if (form.address.trim()) body.address = form.address.trim()
  if (form.lng !== null && form.lat !== null) {
    body.lng = form.lng
    body.lat = form.lat
  } else if (ownGrid) body.grid_code = ownGrid
  return body
}

function store(): QueueStore {
  return typeof indexedDB === 'undefined' ? new MemoryStore() : new IdbStore()
}

/** Lost connection (and server errors, which may pass) → retry; anything else → refused. */
export function classify(error: unknown): 'retry' | 'refused' {
  if (error instanceof ApiError) return error.isNetwork || error.status >= 500 || error.status === 401 ? 'retry' : 'refused'
  return 'retry'
}

export const queue = new ReportQueue(
  store(),
  {
    create: async (body) => {
      const event = await ok(client.POST('/api/v1/events', { body: body as unknown as EventCreate }))
      return { code: event.code }
    },
    attach: async (code: string, photo: QueuedPhoto) => {
      await attach(code, new File([photo.blob], photo.name, { type: photo.blob.type }), photo.kind)
    },
  },
  classify,
)
