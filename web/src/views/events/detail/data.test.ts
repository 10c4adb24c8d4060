import { describe, expect, it } from 'vitest'
import { actionFields, checkAction, emptyValues, needsDepartments, toActionIn } from './data'
import { duplicatesOf, suggestionsOf } from './extras'

const t = (key: string): string => key

describe('action forms', () => {
  it('each action shows the fields it needs', () => {
    expect(actionFields('dispatch')).toEqual(['reason', 'lead_department_id', 'assist_department_ids'])
    expect(actionFields('accept')).toEqual(['reason'])
    expect(needsDepartments('whistle')).toBe(true)
    expect(needsDepartments('sign')).toBe(false)
  })
  it('checks required fields before sending', () => {
    const values = emptyValues()
    expect(checkAction('dispatch', values, false, t)).toEqual({ lead_department_id: 'errors.field.missing' })
    expect(checkAction('reject', values, true, t)).toEqual({ reason: 'errors.field.missing' })
    expect(checkAction('accept', values, false, t)).toEqual({})
    expect(checkAction('whistle', values, true, t)).toEqual({
      reason: 'errors.field.missing', whistle_type: 'errors.field.missing', department_ids: 'errors.field.missing',
    })
    values.working_days = 99
    expect(checkAction('request_extension', values, true, t).working_days).toBe('errors.field.less_than_equal')
  })
  it('sends only the fields of the action', () => {
    const values = { ...emptyValues(), lead_department_id: 3, reply: 'not for dispatch', reason: '  ' }
    expect(toActionIn('dispatch', values)).toEqual({ action: 'dispatch', lead_department_id: 3 })
    const rate = { ...emptyValues(), rating: 'satisfied' as const, contacted: true }
    expect(toActionIn('rate', rate)).toEqual({ action: 'rate', rating: 'satisfied', contacted: true })
    expect(toActionIn('decide_extension', { ...emptyValues(), approve: false })).toEqual({ action: 'decide_extension', approve: false })
  })
})

describe('intelligence fields, when the API sends them', () => {
  const labels = { category: 'C', unit: 'U' }
  it('renders nothing without them', () => {
    expect(suggestionsOf({ code: 'x' }, labels)).toEqual([])
    expect(duplicatesOf({ code: 'x' })).toEqual([])
  })
  it('reads flat and nested suggestions', () => {
    expect(suggestionsOf({ suggested_category_code: 'road' }, labels)).toEqual([{ label: 'C', value: 'road', score: null }])
    expect(suggestionsOf({ suggestions: { category: { code: 'road', name: '道路', score: 0.8 }, department: { name: '城管局' } } }, labels)).toEqual([
      { label: 'C', value: '道路', score: 0.8 },
      { label: 'U', value: '城管局', score: null },
    ])
  })
  it('reads duplicate candidates in either shape', () => {
    expect(duplicatesOf({ duplicate_candidates: ['A1', { code: 'A2', title: 't', score: 0.9 }, { nothing: 1 }] })).toEqual([
      { code: 'A1', title: '', score: null },
      { code: 'A2', title: 't', score: 0.9 },
    ])
  })
  it('reads the routing suggestion and the duplicates API as the server sends them', () => {
    const suggestion = { suggested_category: 'SJ01', label: '市容环境', confidence: 0.93, suggested_department_id: 7 }
    expect(suggestionsOf({ suggestion }, labels)).toEqual([
      { label: 'C', value: 'SJ01', score: 0.93 },
      { label: 'U', value: '7', score: null },
    ])
    const named = { ...suggestion, suggested_category_name: '市容环境类', suggested_department_name: '城管执法局' }
    expect(suggestionsOf({ suggestion: named }, labels)).toEqual([
      { label: 'C', value: '市容环境类', score: 0.93 },
      { label: 'U', value: '城管执法局', score: null },
    ])
    const items = [{ candidate_code: 'SY1', title: '井盖缺失', score: 0.72, decision: 'suggested' }]
    expect(duplicatesOf({ duplicates: items })).toEqual([{ code: 'SY1', title: '井盖缺失', score: 0.72 }])
  })
})
