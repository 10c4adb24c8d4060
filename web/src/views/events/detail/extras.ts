/** Intelligence fields other teams are adding to the event detail (suggested category and
 * unit, duplicate candidates). Read defensively, so the page renders them when the API sends
 * them and stays quiet otherwise; everything is shown as text. */

export interface Suggestion {
  label: string
  value: string
  score: number | null
}

export interface Duplicate {
  code: string
  title: string
  score: number | null
}

type Loose = Record<string, unknown>

const isObj = (v: unknown): v is Loose => typeof v === 'object' && v !== null && !Array.isArray(v)
const str = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '')
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)

function pick(source: Loose, keys: string[]): unknown {
  for (const key of keys) if (source[key] !== undefined && source[key] !== null) return source[key]
  return undefined
}

function describe(value: unknown): { value: string; score: number | null } | null {
  if (isObj(value)) {
    const text = str(pick(value, ['name', 'label', 'title'])) || str(pick(value, ['code', 'category_code', 'department_id', 'id']))
    return text ? { value: text, score: num(pick(value, ['score', 'confidence', 'probability'])) } : null
  }
  const text = str(value)
  return text ? { value: text, score: null } : null
}

export function suggestionsOf(event: object, labels: { category: string; unit: string }): Suggestion[] {
  const e = event as Loose
  const box = isObj(e.suggestions) ? e.suggestions : isObj(e.suggestion) ? e.suggestion : null
  // names first (what a dispatcher reads), codes and ids when the server sends no name
  const category = box
    ? pick(box, ['suggested_category_name', 'category', 'category_code', 'suggested_category'])
    : pick(e, ['suggested_category', 'suggested_category_code'])
  const unit = box
    ? pick(box, ['suggested_department_name', 'department', 'unit', 'department_id', 'suggested_department', 'suggested_department_id'])
    : pick(e, ['suggested_department', 'suggested_unit', 'suggested_department_id'])
  const out: Suggestion[] = []
  const c = describe(category)
  const confidence = box ? num(pick(box, ['confidence', 'score'])) : null
  if (c) out.push({ label: labels.category, ...c, score: c.score ?? confidence })
  const u = describe(unit)
  if (u) out.push({ label: labels.unit, ...u })
  return out
}

export function duplicatesOf(event: object): Duplicate[] {
  const e = event as Loose
  const list = pick(e, ['duplicate_candidates', 'duplicates', 'similar_events'])
  if (!Array.isArray(list)) return []
  return list
    .map((item): Duplicate | null => {
      if (typeof item === 'string') return { code: item, title: '', score: null }
      if (!isObj(item)) return null
      const code = str(pick(item, ['candidate_code', 'code', 'event_code']))
      return code ? { code, title: str(item.title), score: num(pick(item, ['score', 'similarity'])) } : null
    })
    .filter((d): d is Duplicate => d !== null)
}
