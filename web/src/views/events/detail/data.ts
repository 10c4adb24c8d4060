/** The form each lifecycle action needs: which fields it shows and the checks run before
 * sending (the same rules the service applies; its 422 field errors still show at the fields). */
import type { ActionIn } from '@/api/events'
import { intBetween, maxLength, required, validate, type Check } from '@/utils/validate'

export type ActionField =
  | 'reason' | 'lead_department_id' | 'assist_department_ids' | 'parent_code' | 'reply' | 'photos'
  | 'rating' | 'rating_comment' | 'contacted' | 'resolved' | 'working_days' | 'approve'
  | 'whistle_type' | 'department_ids' | 'department_id' | 'score'

/** Fields an action uses besides `reason` (shown when the table says it needs one, or as an
 * optional note otherwise). */
const FIELDS: Record<string, ActionField[]> = {
  merge: ['parent_code'],
  dispatch: ['lead_department_id', 'assist_department_ids'],
  rule_final: ['lead_department_id', 'assist_department_ids'],
  assist_reply: ['reply'],
  reply: ['reply', 'photos'],
  self_resolve: ['reply', 'photos'],
  rate: ['rating', 'rating_comment', 'contacted', 'resolved'],
  request_extension: ['working_days'],
  decide_extension: ['approve'],
  whistle: ['whistle_type', 'department_ids'],
  rate_checkin: ['department_id', 'score'],
}

/** Fields the service refuses to go without, per action. */
const REQUIRED: Record<string, ActionField[]> = {
  merge: ['parent_code'],
  dispatch: ['lead_department_id'],
  assist_reply: ['reply'],
  reply: ['reply'],
  rate: ['rating'],
  request_extension: ['working_days'],
  decide_extension: ['approve'],
  whistle: ['whistle_type', 'department_ids'],
  rate_checkin: ['department_id', 'score'],
}

export function actionFields(action: string): ActionField[] {
  return ['reason', ...(FIELDS[action] ?? [])]
}

export function needsDepartments(action: string): boolean {
  return actionFields(action).some((f) => f.includes('department'))
}

export interface ActionValues {
  reason: string
  lead_department_id: number | null
  assist_department_ids: number[]
  parent_code: string
  reply: string
  rating: NonNullable<ActionIn['rating']> | undefined
  rating_comment: string
  contacted: boolean | null
  resolved: boolean | null
  working_days: number | null
  approve: boolean | undefined
  whistle_type: NonNullable<ActionIn['whistle_type']> | undefined
  department_ids: number[]
  department_id: number | null
  score: number | null
  [key: string]: unknown
}

export function emptyValues(): ActionValues {
  return {
    reason: '', lead_department_id: null, assist_department_ids: [], parent_code: '', reply: '',
    rating: undefined, rating_comment: '', contacted: null, resolved: null, working_days: null,
    approve: undefined, whistle_type: undefined, department_ids: [], department_id: null, score: null,
  }
}

export function isRequired(action: string, field: ActionField, needsReason: boolean): boolean {
  if (field === 'reason') return needsReason
  return (REQUIRED[action] ?? []).includes(field)
}

export function checkAction(
  action: string,
  values: ActionValues,
  needsReason: boolean,
  t: (key: string) => string,
): Record<string, string> {
  const schema: Partial<Record<string, Check[]>> = {}
  for (const field of actionFields(action)) {
    const checks: Check[] = []
    if (isRequired(action, field, needsReason)) checks.push(required(t('errors.field.missing')))
    if (field === 'reason') checks.push(maxLength(2000, t('errors.field.string_too_long')))
    if (field === 'reply') checks.push(maxLength(5000, t('errors.field.string_too_long')))
    if (field === 'working_days') checks.push(intBetween(1, 60, t('errors.field.less_than_equal')))
    if (field === 'score') checks.push(intBetween(1, 5, t('errors.field.less_than_equal')))
    schema[field] = checks
  }
  return validate(values, schema)
}

/** The request body: only the fields this action uses, empty ones left out. */
export function toActionIn(action: string, values: ActionValues): ActionIn {
  const body: Record<string, unknown> = { action }
  for (const field of actionFields(action)) {
    if (field === 'photos') continue
    const raw = values[field]
    const value = typeof raw === 'string' ? raw.trim() : raw
    if (value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) continue
    body[field] = value
  }
  return body as unknown as ActionIn
}
