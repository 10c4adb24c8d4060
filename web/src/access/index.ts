/** Menus and buttons follow the permission codes of GET /api/v1/auth/me, the same codes the
 * API enforces (style.md §6). Pure helpers, plus the `v-access` directive. */
import type { Directive } from 'vue'

export type Codes = readonly string[] | ReadonlySet<string>

function has(codes: Codes, code: string): boolean {
  return codes instanceof Set ? codes.has(code) : (codes as readonly string[]).includes(code)
}

/** True when the user holds at least one of `needed` (an empty list needs nothing). */
export function hasAnyCode(codes: Codes, needed: readonly string[] | undefined): boolean {
  if (!needed || needed.length === 0) return true
  return needed.some((code) => has(codes, code))
}

/** Lifecycle actions the page may offer: the ones the API listed for this event and user, in
 * the order of the transition table (labels come from it too). */
export function offeredActions<T extends { action: string }>(table: readonly T[], allowed: readonly string[]): T[] {
  const open = new Set(allowed)
  return table.filter((row) => open.has(row.action))
}

export interface RouteAccess {
  authority?: string[]
  levels?: string[]
}

/** Whether a user with `codes` at `level` may open a page with this route meta. */
export function canOpen(codes: Codes, level: string | undefined, meta: RouteAccess | undefined): boolean {
  if (!hasAnyCode(codes, meta?.authority)) return false
  return !meta?.levels || meta.levels.includes(level ?? '')
}

let currentCodes: () => Codes = () => []

export function bindCodes(source: () => Codes): void {
  currentCodes = source
}

/** `v-access="'event:export'"` or `v-access="['a', 'b']"`: removes the element without them. */
export const vAccess: Directive<HTMLElement, string | string[]> = {
  mounted(el, binding) {
    const needed = Array.isArray(binding.value) ? binding.value : [binding.value]
    if (!hasAnyCode(currentCodes(), needed)) el.remove()
  },
}
