/** Checks run before sending, mirroring the API's own constraints so the user sees the same
 * rule at the field at once; the API's 422 field errors remain the authority. */

export const JURISDICTION_CODE = /^\d{12,23}$/
export const EVENT_CODE = /^\d{8,24}$/

export type Check = (value: unknown) => string | null

export const required = (message: string): Check => (value) => {
  if (value === null || value === undefined) return message
  if (typeof value === 'string' && value.trim() === '') return message
  if (Array.isArray(value) && value.length === 0) return message
  return null
}

export const maxLength = (limit: number, message: string): Check => (value) =>
  typeof value === 'string' && value.length > limit ? message : null

export const matches = (pattern: RegExp, message: string): Check => (value) =>
  typeof value === 'string' && value !== '' && !pattern.test(value.trim()) ? message : null

export const intBetween = (min: number, max: number, message: string): Check => (value) => {
  if (value === null || value === undefined || value === '') return null
  const n = Number(value)
  return Number.isInteger(n) && n >= min && n <= max ? null : message
}

/** Runs every field's checks; the first failing check of each field wins. */
export function validate<T extends Record<string, unknown>>(
  values: T,
  schema: Partial<Record<keyof T & string, Check[]>>,
): Record<string, string> {
  const errors: Record<string, string> = {}
  for (const [field, checks] of Object.entries(schema) as [string, Check[]][]) {
    for (const check of checks) {
      const message = check(values[field])
      if (message) {
        errors[field] = message
        break
      }
    }
  }
  return errors
}

/** Drops empty values so a query carries only the filters the user set. */
export function compact<T extends Record<string, unknown>>(values: T): Partial<T> {
  const out: Partial<T> = {}
  for (const [key, value] of Object.entries(values)) {
    if (value === '' || value === null || value === undefined || value === false) continue
    if (Array.isArray(value) && value.length === 0) continue
    ;(out as Record<string, unknown>)[key] = typeof value === 'string' ? value.trim() : value
  }
  return out
}
