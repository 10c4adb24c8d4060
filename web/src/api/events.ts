import type { components, paths } from './schema'
import { client, ok } from './request'

export type EventRead = components['schemas']['EventRead']
export type EventDetail = components['schemas']['EventDetail']
export type ActionIn = components['schemas']['ActionIn']
export type TransitionRead = components['schemas']['TransitionRead']
export type Category = components['schemas']['CategoryRead']
export type Status = components['schemas']['Status']
export type Light = components['schemas']['Light']
export type Channel = components['schemas']['Channel']
export type Urgency = components['schemas']['Urgency']
export type TodoOut = components['schemas']['TodoOut']
export type AuditRecord = components['schemas']['AuditRecordRead']
/** The filters of the to-do list, the event list and the export (one query type). */
export type ListQuery = NonNullable<paths['/api/v1/events/todo']['get']['parameters']['query']>
export type ExportQuery = NonNullable<paths['/api/v1/events/export.xlsx']['get']['parameters']['query']>

export const getTodo = (query: ListQuery): Promise<TodoOut> =>
  ok(client.GET('/api/v1/events/todo', { params: { query } }))

export const getEvent = (code: string): Promise<EventDetail> =>
  ok(client.GET('/api/v1/events/{code}', { params: { path: { code } } }))

export type DuplicateList = components['schemas']['DuplicateList']

/** Open events that may describe the same problem (工单合并 candidates), with scores. */
export const getDuplicates = (code: string): Promise<DuplicateList> =>
  ok(client.GET('/api/v1/events/{code}/duplicates', { params: { path: { code } } }))

export const act = (code: string, body: ActionIn): Promise<EventRead> =>
  ok(client.POST('/api/v1/events/{code}/actions', { params: { path: { code } }, body }))

export const getTransitions = (): Promise<TransitionRead[]> =>
  ok(client.GET('/api/v1/events/meta/transitions'))

export const getCategories = (): Promise<Category[]> => ok(client.GET('/api/v1/events/meta/categories'))

export function attach(code: string, file: File, kind: components['schemas']['AttachmentKind'] = 'photo') {
  return ok(
    client.POST('/api/v1/events/{code}/attachments', {
      params: { path: { code } },
      body: { file: file as unknown as string, kind },
      bodySerializer: (body) => {
        const form = new FormData()
        form.append('file', body.file as unknown as Blob)
        form.append('kind', String(body.kind))
        return form
      },
    }),
  )
}

/** The attachment's bytes through the authenticated client (an <img src> carries no token). */
export async function attachmentBlob(code: string, id: number): Promise<Blob> {
  const { data } = await client.GET('/api/v1/events/{code}/attachments/{attachment_id}', {
    params: { path: { code, attachment_id: id } },
    parseAs: 'blob',
  })
  return data as unknown as Blob
}

export async function exportXlsx(query: ExportQuery): Promise<Blob> {
  const { data } = await client.GET('/api/v1/events/export.xlsx', { params: { query }, parseAs: 'blob' })
  return data as unknown as Blob
}

export type AuditPage = components['schemas']['AuditPage']

/** The audit trail of one event, when the caller may read it (audit:read). */
export const getAudit = (code: string): Promise<AuditPage> =>
  ok(client.GET('/api/v1/audit/records', { params: { query: { object_type: 'event', object_id: code } } }))
