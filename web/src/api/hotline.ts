import type { components, paths } from './schema'
import { client, commonHeaders, errorOf, ok } from './request'
import { networkError } from './errors'
import { t } from '@/locales'

export type Mapping = components['schemas']['MappingRead']
export type ImportRead = components['schemas']['ImportRead']
export type ImportReport =
  paths['/api/v1/intake/hotline/imports']['post']['responses'][201]['content']['application/json']
export type ImportDetail = components['schemas']['ImportDetail']
export type ImportPage = components['schemas']['ImportPage']

export const getMappings = (): Promise<Mapping[]> => ok(client.GET('/api/v1/intake/hotline/mappings'))
export const getImports = (page = 1, size = 20): Promise<ImportPage> =>
  ok(client.GET('/api/v1/intake/hotline/imports', { params: { query: { page, size } } }))
export const getImport = (id: number): Promise<ImportDetail> =>
  ok(client.GET('/api/v1/intake/hotline/imports/{job_id}', { params: { path: { job_id: id } } }))

/** The upload goes through XMLHttpRequest because fetch cannot report upload progress; the
 * headers and the error mapping are the request client's own. */
export function uploadImport(file: File, mapping: string, onProgress: (percent: number) => void): Promise<ImportReport> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', '/api/v1/intake/hotline/imports')
    const headers = commonHeaders()
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value)
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(Math.round((e.loaded / e.total) * 100))
    xhr.onerror = () => reject(networkError(t('errors.network')))
    xhr.onload = async () => {
      const response = new Response(xhr.responseText, {
        status: xhr.status,
        headers: { 'Content-Type': xhr.getResponseHeader('Content-Type') ?? 'application/json' },
      })
      const error = await errorOf(response, 'Authorization' in headers)
      if (error) reject(error)
      else resolve(JSON.parse(xhr.responseText) as ImportReport)
    }
    const form = new FormData()
    form.append('file', file)
    form.append('mapping', mapping)
    xhr.send(form)
  })
}
