import { describe, expect, it } from 'vitest'
import { LOAD_COLOURS, drillTo, gridsAsUnits, hasShapes, loadColour, percent, trendOption } from './data'
import type { DashboardSummary } from '@/api/dashboard'

describe('command centre data', () => {
  it('drills down and back along the trail', () => {
    const city = { code: '1', name: '市', level: 'city' as const }
    const district = { code: '2', name: '区', level: 'district' as const }
    const street = { code: '3', name: '街', level: 'street' as const }
    const trail = drillTo(drillTo([city], district), street)
    expect(trail.map((c) => c.code)).toEqual(['1', '2', '3'])
    expect(drillTo(trail, district).map((c) => c.code)).toEqual(['1', '2'])
  })

  it('colours load from calm to busy', () => {
    expect(loadColour(0, 10)).toBe(LOAD_COLOURS[0])
    expect(loadColour(1, 10)).toBe(LOAD_COLOURS[1])
    expect(loadColour(10, 10)).toBe(LOAD_COLOURS[5])
    expect(loadColour(5, 0)).toBe(LOAD_COLOURS[0])
  })

  it('formats rates and builds the trend series', () => {
    expect(percent(null)).toBe('—')
    expect(percent(0.8766)).toBe('87.7%')
    const summary = { period_days: 2, trend: [{ day: '2026-11-21', received: 3, closed: 1 }, { day: '2026-11-22', received: 2, closed: 4 }] } as unknown as DashboardSummary
    const option = trendOption(summary, (k) => k) as { xAxis: { data: string[] }; series: { data: number[] }[] }
    expect(option.xAxis.data).toEqual(['11-21', '11-22'])
    expect(option.series.map((s) => s.data)).toEqual([[3, 2], [1, 4]])
  })
})

describe('grids standing in for their units', () => {
  it('gives each grid its community and drops strays', () => {
    const grids = {
      type: 'FeatureCollection',
      features: [
        { type: 'Feature', geometry: { type: 'Point' }, properties: { code: '110101001001001', name: '网格1' } },
        { type: 'Feature', geometry: { type: 'Point' }, properties: { code: '110101001002001', name: '网格2' } },
      ],
    }
    const out = gridsAsUnits(grids, [{ code: '110101001001', name: '一社区' }], 'community')
    expect(out.features).toHaveLength(1)
    expect(out.features[0].properties).toMatchObject({ code: '110101001001', name: '一社区', grid_code: '110101001001001' })
    expect(hasShapes(out)).toBe(true)
    expect(hasShapes({ features: [{ geometry: null }] })).toBe(false)
  })
})
