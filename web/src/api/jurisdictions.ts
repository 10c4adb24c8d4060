import type { components } from './schema'
import { client, ok } from './request'

export type Jurisdiction = components['schemas']['JurisdictionRead']

export const getJurisdiction = (code: string): Promise<Jurisdiction> =>
  ok(client.GET('/api/v1/jurisdictions/{code}', { params: { path: { code } } }))
