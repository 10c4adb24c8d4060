/** The residents' page (no account): report, add photos, follow, rate, and the map source. */
import type { components } from './schema'
import { client, ok } from './request'

export type ResidentReport = components['schemas']['ResidentReport']
export type ResidentReceipt = components['schemas']['ResidentReceipt']
export type PublicEventView = components['schemas']['PublicEventView']
export type Rating = components['schemas']['Rating']
export type PublicCategory = components['schemas']['CategoryRead']
export type MapConfig = components['schemas']['MapConfig']

export const report = (body: ResidentReport): Promise<ResidentReceipt> =>
  ok(client.POST('/api/v1/public/events', { body }))

export function addPhoto(code: string, phone: string, file: Blob, name: string) {
  return ok(
    client.POST('/api/v1/public/events/{code}/photos', {
      params: { path: { code } },
      body: { phone, file: file as unknown as string },
      bodySerializer: () => {
        const form = new FormData()
        form.append('phone', phone)
        form.append('file', file, name)
        return form
      },
    }),
  )
}

export const follow = (code: string, phone: string): Promise<PublicEventView> =>
  ok(client.GET('/api/v1/public/events/{code}', { params: { path: { code }, query: { phone } } }))

export const rate = (code: string, phone: string, rating: Rating, comment: string): Promise<PublicEventView> =>
  ok(client.POST('/api/v1/public/events/{code}/rating', { params: { path: { code } }, body: { phone, rating, comment } }))

export const categories = (): Promise<PublicCategory[]> => ok(client.GET('/api/v1/public/categories'))

let mapConfig: Promise<MapConfig> | null = null
/** Asked once per page load; no tiles (a plain background) when it fails. */
export function getMapConfig(): Promise<MapConfig> {
  mapConfig ??= ok(client.GET('/api/v1/public/map-config')).catch(() => ({ tile_url: '', tile_attribution: '', centre: null }))
  return mapConfig
}
