import { describe, expect, it } from 'vitest'
import { canOpen, hasAnyCode, offeredActions } from './index'

describe('permission checks', () => {
  it('needs one of the codes', () => {
    const codes = new Set(['event:read', 'event:act'])
    expect(hasAnyCode(codes, ['event:read'])).toBe(true)
    expect(hasAnyCode(codes, ['event:export', 'event:act'])).toBe(true)
    expect(hasAnyCode(codes, ['event:export'])).toBe(false)
    expect(hasAnyCode(['a'], ['a'])).toBe(true)
  })
  it('needs nothing without codes', () => {
    expect(hasAnyCode(new Set(), undefined)).toBe(true)
    expect(hasAnyCode(new Set(), [])).toBe(true)
  })
  it('checks the level of pages that need one', () => {
    const meta = { authority: ['hotline:import'], levels: ['city', 'district'] }
    expect(canOpen(['hotline:import'], 'district', meta)).toBe(true)
    expect(canOpen(['hotline:import'], 'street', meta)).toBe(false)
    expect(canOpen([], 'city', meta)).toBe(false)
    expect(canOpen([], undefined, undefined)).toBe(true)
  })
  it('offers the actions the API allows, in the order of the table', () => {
    const table = [{ action: 'accept' }, { action: 'reject' }, { action: 'dispatch' }]
    expect(offeredActions(table, ['dispatch', 'accept', 'unknown'])).toEqual([{ action: 'accept' }, { action: 'dispatch' }])
    expect(offeredActions(table, [])).toEqual([])
  })
})
