/** The residents' report and follow forms: checks done before sending (the API checks
 * again and its field errors are shown next to the same fields). */
export const PHONE = /^\+?[0-9][0-9\- ]{4,19}$/
export const CODE = /^[A-Za-z0-9-]{4,24}$/
export const MAX_PHOTOS = 6
export const MAX_PHOTO_BYTES = 10 * 1024 * 1024

export interface ReportForm {
  title: string
  description: string
  category_code: string
  reporter_phone: string
  reporter_name: string
  address: string
  lng: number | null
  lat: number | null
}

export function emptyReport(): ReportForm {
  return { title: '', description: '', category_code: '', reporter_phone: '', reporter_name: '', address: '', lng: null, lat: null }
}

type Translate = (key: string) => string

export function checkReport(form: ReportForm, photos: File[], t: Translate): Record<string, string> {
  const errors: Record<string, string> = {}
  if (!form.title.trim()) errors.title = t('resident.titleRequired')
  else if (form.title.length > 200) errors.title = t('errors.field.string_too_long')
  if (form.description.length > 5000) errors.description = t('errors.field.string_too_long')
  if (!PHONE.test(form.reporter_phone.trim())) errors.reporter_phone = t('resident.phoneInvalid')
  if (form.lng === null && !form.address.trim()) errors.address = t('resident.placeRequired')
  if (photos.length > MAX_PHOTOS) errors.photos = t('resident.tooManyPhotos')
  else if (photos.some((p) => p.size > MAX_PHOTO_BYTES)) errors.photos = t('resident.photoTooBig')
  return errors
}

/** The report body: empty optional fields left out. */
export function toReport(form: ReportForm): Record<string, unknown> {
  const body: Record<string, unknown> = { title: form.title.trim(), reporter_phone: form.reporter_phone.trim() }
  if (form.description.trim()) body.description = form.description.trim()
  if (form.category_code) body.category_code = form.category_code
  if (form.reporter_name.trim()) body.reporter_name = form.reporter_name.trim()
  if (form.address.trim()) body.address = form.address.trim()
  if (form.lng !== null && form.lat !== null) {
    body.lng = form.lng
    body.lat = form.lat
  }
  return body
}

export function checkFollow(code: string, phone: string, t: Translate): Record<string, string> {
  const errors: Record<string, string> = {}
  if (!CODE.test(code.trim())) errors.code = t('resident.codeInvalid')
  if (!PHONE.test(phone.trim())) errors.phone = t('resident.phoneInvalid')
  return errors
}
