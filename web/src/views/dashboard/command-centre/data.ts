/** Pure definitions of the command centre: load colours, the drill-down trail, rates and
 * the chart options (built here so they can be unit-tested without a canvas). */
import type { DashboardSummary, Level } from '@/api/dashboard'

export interface Crumb {
  code: string
  name: string
  level: Level
}

/** Going down adds a crumb; clicking a crumb cuts the trail back to it. */
export function drillTo(trail: Crumb[], next: Crumb): Crumb[] {
  const at = trail.findIndex((c) => c.code === next.code)
  return at >= 0 ? trail.slice(0, at + 1) : [...trail, next]
}

/** Five steps from calm to busy; 0 open is its own colour so empty units stand out. */
export const LOAD_COLOURS = ['#e2e8f0', '#bfdbfe', '#60a5fa', '#f59e0b', '#ef4444', '#991b1b']

export function loadColour(open: number, max: number): string {
  if (open <= 0 || max <= 0) return LOAD_COLOURS[0]
  const step = Math.min(4, Math.floor((open / max) * 5 - 1e-9))
  return LOAD_COLOURS[1 + Math.max(0, step)]
}

export const LIGHT_MARKER: Record<string, string> = { none: '#64748b', green: '#16a34a', yellow: '#d97706', red: '#dc2626' }

export function percent(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? '—' : `${(rate * 100).toFixed(1)}%`
}

type Translate = (key: string, values?: Record<string, unknown>) => string

const AXIS = { axisLabel: { color: '#94a3b8' }, axisLine: { lineStyle: { color: '#334155' } } }

export function trendOption(summary: DashboardSummary, t: Translate): Record<string, unknown> {
  const days = summary.trend.map((p) => p.day.slice(5))
  return {
    color: ['#38bdf8', '#4ade80'],
    tooltip: { trigger: 'axis' },
    legend: { textStyle: { color: '#cbd5e1' }, top: 0 },
    grid: { left: 36, right: 12, top: 30, bottom: 24 },
    xAxis: { type: 'category', data: days, ...AXIS },
    yAxis: { type: 'value', minInterval: 1, splitLine: { lineStyle: { color: '#1e293b' } }, ...AXIS },
    series: [
      { name: t('dashboard.received'), type: 'line', smooth: true, data: summary.trend.map((p) => p.received), areaStyle: { opacity: 0.15 } },
      { name: t('dashboard.closed'), type: 'line', smooth: true, data: summary.trend.map((p) => p.closed) },
    ],
  }
}

export function categoryOption(summary: DashboardSummary, t: Translate): Record<string, unknown> {
  const top = summary.categories.slice(0, 8).reverse()
  return {
    color: ['#818cf8'],
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    grid: { left: 90, right: 24, top: 8, bottom: 20 },
    xAxis: { type: 'value', minInterval: 1, splitLine: { lineStyle: { color: '#1e293b' } }, ...AXIS },
    yAxis: { type: 'category', data: top.map((c) => c.name || t('dashboard.uncategorised')), ...AXIS },
    series: [{ type: 'bar', data: top.map((c) => c.count), barMaxWidth: 14, label: { show: true, position: 'right', color: '#e2e8f0' } }],
  }
}

export function channelOption(summary: DashboardSummary, t: Translate, te: (key: string) => boolean): Record<string, unknown> {
  return {
    tooltip: { trigger: 'item' },
    legend: { bottom: 0, textStyle: { color: '#cbd5e1' }, itemWidth: 10, itemHeight: 10 },
    series: [
      {
        type: 'pie',
        radius: ['38%', '62%'],
        center: ['50%', '42%'],
        label: { position: 'inside', color: '#fff', formatter: '{d}%' },
        data: summary.channels.map((c) => ({ name: te(`event.channels.${c.key}`) ? t(`event.channels.${c.key}`) : c.key, value: c.count })),
      },
    ],
  }
}

/** A short spoken summary of a chart for screen readers (the canvas itself is not read). */
export function trendLabel(summary: DashboardSummary, t: Translate): string {
  const received = summary.trend.reduce((n, p) => n + p.received, 0)
  const closed = summary.trend.reduce((n, p) => n + p.closed, 0)
  return t('dashboard.trendLabel', { days: summary.period_days, received, closed })
}

/** Leading digits a unit's code shares with everything inside it (as the server's codes). */
const SIGNIFICANT: Partial<Record<Level, number>> = { city: 4, district: 6, street: 9, community: 12, grid: 15 }

type Shapes = { features: { geometry?: unknown; properties?: Record<string, unknown> | null }[] }

export function hasShapes(collection: Shapes | null): boolean {
  return !!collection?.features.some((f) => f.geometry)
}

/** When the child units carry no outlines (only grids were drawn), each grid is shown as
 * part of its child unit: same colour, same tooltip, and a click drills into that unit. */
export function gridsAsUnits<T extends Shapes>(grids: T, units: { code: string; name: string }[], level: Level): T {
  const digits = SIGNIFICANT[level] ?? 12
  const byPrefix = new Map(units.map((u) => [u.code.slice(0, digits), u]))
  return {
    ...grids,
    features: grids.features.flatMap((f) => {
      const gridCode = String(f.properties?.code ?? '')
      const unit = byPrefix.get(gridCode.slice(0, digits))
      return unit ? [{ ...f, properties: { ...f.properties, code: unit.code, name: unit.name, level, grid_code: gridCode } }] : []
    }),
  }
}
