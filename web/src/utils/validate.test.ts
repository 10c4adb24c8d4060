import { describe, expect, it } from 'vitest'
import { JURISDICTION_CODE, compact, intBetween, matches, maxLength, required, validate } from './validate'

describe('form checks', () => {
  it('required refuses empty, blank and empty lists', () => {
    const check = required('必填')
    expect(check('')).toBe('必填')
    expect(check('   ')).toBe('必填')
    expect(check(null)).toBe('必填')
    expect(check([])).toBe('必填')
    expect(check('x')).toBeNull()
    expect(check(0)).toBeNull()
    expect(check(false)).toBeNull()
  })
  it('length, pattern and integer range', () => {
    expect(maxLength(3, 'long')('abcd')).toBe('long')
    expect(maxLength(3, 'long')('abc')).toBeNull()
    expect(matches(JURISDICTION_CODE, 'bad')('42010200')).toBe('bad')
    expect(matches(JURISDICTION_CODE, 'bad')('420102001001')).toBeNull()
    expect(matches(JURISDICTION_CODE, 'bad')('')).toBeNull()
    expect(intBetween(1, 60, 'range')(61)).toBe('range')
    expect(intBetween(1, 60, 'range')(1.5)).toBe('range')
    expect(intBetween(1, 60, 'range')(5)).toBeNull()
    expect(intBetween(1, 60, 'range')(null)).toBeNull()
  })
  it('validate keeps the first failing check of each field', () => {
    const errors = validate({ a: '', b: 'toolong' }, { a: [required('r'), maxLength(1, 'l')], b: [maxLength(3, 'l')] })
    expect(errors).toEqual({ a: 'r', b: 'l' })
  })
  it('compact drops empty filters and trims text', () => {
    expect(compact({ q: ' 井盖 ', status: '', overdue: false, ids: [], n: 0, flag: true })).toEqual({ q: '井盖', n: 0, flag: true })
  })
})
