/** Shared definitions of the events pages: option lists, colours and the filter form. */
import type { Channel, Light, ListQuery, Status, Urgency } from '@/api/events'
import { JURISDICTION_CODE, compact, matches, maxLength, validate } from '@/utils/validate'

export const STATUSES: Status[] = [
  'reported', 'accepted', 'dispatched', 'returned', 'signed', 'handling', 'replied',
  'self_resolved', 'verified', 'closed', 'rated', 'suspended', 'rejected', 'cancelled', 'merged',
]
export const CHANNELS: Channel[] = ['grid_patrol', 'resident', 'hotline_12345', 'sensor', 'video', 'open311', 'department']
export const URGENCIES: Urgency[] = ['normal', 'urgent', 'emergency']
export const LIGHTS: Light[] = ['green', 'yellow', 'red', 'none']

export const LIGHT_COLOURS: Record<Light, string> = { none: '#9ca3af', green: '#16a34a', yellow: '#d97706', red: '#dc2626' }
export const URGENCY_TAGS: Record<Urgency, 'info' | 'warning' | 'danger'> = { normal: 'info', urgent: 'warning', emergency: 'danger' }

export interface TodoFilters {
  status: Status | ''
  category_code: string
  channel: Channel | ''
  urgency: Urgency | ''
  jurisdiction_code: string
  light: Light | ''
  overdue: boolean
  q: string
  [key: string]: unknown
}

export function emptyFilters(): TodoFilters {
  return { status: '', category_code: '', channel: '', urgency: '', jurisdiction_code: '', light: '', overdue: false, q: '' }
}

export function checkFilters(filters: TodoFilters, t: (key: string) => string): Record<string, string> {
  return validate(filters, {
    jurisdiction_code: [matches(JURISDICTION_CODE, t('errors.field.string_pattern_mismatch'))],
    q: [maxLength(100, t('errors.field.string_too_long'))],
  })
}

/** The API query of the filters (a single status becomes the `status` list). */
export function toQuery(filters: TodoFilters): ListQuery {
  const { status, ...rest } = compact(filters)
  const query = rest as ListQuery
  if (status) query.status = [status as Status]
  return query
}
