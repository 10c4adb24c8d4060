import { describe, expect, it } from 'vitest'
import zh from './zh-CN'
import en from './en-US'

function keys(obj: object, prefix = ''): string[] {
  return Object.entries(obj).flatMap(([k, v]) => (typeof v === 'object' && v !== null ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`]))
}

describe('locales', () => {
  it('en-US has every key of zh-CN and no other', () => {
    expect(keys(en).sort()).toEqual(keys(zh).sort())
  })
  it('no message is empty', () => {
    const values = (obj: object): unknown[] => Object.values(obj).flatMap((v) => (typeof v === 'object' && v !== null ? values(v) : [v]))
    for (const locale of [zh, en]) {
      expect(values(locale).length).toBeGreaterThan(100)
      expect(values(locale).filter((v) => typeof v !== 'string' || v.trim() === '')).toEqual([])
    }
  })
})
