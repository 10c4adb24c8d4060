import { describe, expect, it } from 'vitest'
import { toNotices } from './dashboard'

describe('warnings and hot issues for the command centre', () => {
  it('reads the warnings page', () => {
    const body = { items: [{ id: 1, kind: 'surge', title: '1街道 市容环境 激增', count: 9 }] }
    expect(toNotices(body)).toEqual([{ title: '1街道 市容环境 激增', detail: 'surge', count: 9 }])
  })
  it('reads the hot-issue report (messages are its count, the place its detail)', () => {
    const body = { items: [{ rank: 1, title: '小区停车位捆绑销售', place: '伊景园', messages: 58 }], truncated: false }
    expect(toNotices(body)).toEqual([{ title: '小区停车位捆绑销售', detail: '伊景园', count: 58 }])
  })
  it('drops rows without a title and survives other shapes', () => {
    expect(toNotices({ items: [{ count: 3 }, null, 'x'] })).toEqual([])
    expect(toNotices(null)).toEqual([])
  })
})
