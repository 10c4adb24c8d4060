import { describe, expect, it, vi } from 'vitest'
import { ApiError, fieldErrors, fieldOf, toApiError } from './errors'
import { errorOf, hooks, translateFieldType } from './request'
import { setLocale } from '@/locales'

const translate = (type: string): string | null => ({ missing: '必填' })[type] ?? null

describe('fieldOf', () => {
  it('names the field after the location', () => {
    expect(fieldOf({ loc: ['body', 'title'] })).toBe('title')
    expect(fieldOf({ loc: ['query', 'reported_to'] })).toBe('reported_to')
    expect(fieldOf({ loc: ['body', 'assist_department_ids', 2] })).toBe('assist_department_ids')
    expect(fieldOf({ loc: ['mapping'] })).toBe('mapping')
  })
  it('has no field for whole-body errors', () => {
    expect(fieldOf({ loc: ['body'] })).toBeNull()
    expect(fieldOf({})).toBeNull()
  })
})

describe('toApiError', () => {
  it('maps the API error body and its field details', () => {
    const body = {
      error: {
        code: 'validation_error',
        message: '输入数据无效',
        details: [
          { loc: ['body', 'title'], msg: 'Field required', type: 'missing' },
          { loc: ['body', 'reporter_phone'], msg: 'String should match pattern', type: 'string_pattern_mismatch' },
          { loc: ['body', 'title'], msg: 'second error of the same field', type: 'x' },
        ],
      },
    }
    const error = toApiError(422, body, translate, 'fallback')
    expect(error).toBeInstanceOf(ApiError)
    expect(error.status).toBe(422)
    expect(error.code).toBe('validation_error')
    expect(error.message).toBe('输入数据无效')
    // translated when the type is known, the API's message otherwise; first error per field
    expect(error.fields).toEqual({ title: '必填', reporter_phone: 'String should match pattern' })
  })
  it('keeps the service messages of domain errors', () => {
    const body = { error: { code: 'event.transition_not_allowed', message: '当前状态不能执行此操作', details: [{ loc: ['body', 'lead_department_id'], msg: '须指定主办单位' }] } }
    const error = toApiError(409, body, translate, 'x')
    expect(error.fields).toEqual({ lead_department_id: '须指定主办单位' })
  })
  it('survives a body that is not ours', () => {
    const error = toApiError(502, '<html>Bad gateway</html>', translate, '服务器出错')
    expect(error.message).toBe('服务器出错')
    expect(error.code).toBe('http_502')
    expect(error.fields).toEqual({})
  })
  it('ignores malformed details', () => {
    expect(fieldErrors([{ loc: ['body'] }, { msg: 'no loc' }], translate)).toEqual({})
    const error = toApiError(422, { error: { code: 'c', message: 'm', details: 'oops' } }, translate, 'f')
    expect(error.details).toEqual([])
  })
})

describe('errorOf (the request client)', () => {
  it('reports an expired login once, only for requests that carried a token', async () => {
    const unauthorized = vi.fn()
    hooks.unauthorized = unauthorized
    const body = JSON.stringify({ error: { code: 'auth.unauthorized', message: '未登录或登录已过期', details: [] } })
    const withToken = await errorOf(new Response(body, { status: 401 }), true)
    expect(withToken?.message).toBe('未登录或登录已过期')
    expect(unauthorized).toHaveBeenCalledTimes(1)
    // a failed login (no token yet) is a wrong password, not an expiry
    await errorOf(new Response(body, { status: 401 }), false)
    expect(unauthorized).toHaveBeenCalledTimes(1)
  })
  it('passes successes through', async () => {
    expect(await errorOf(new Response('{}', { status: 200 }), true)).toBeNull()
  })
  it('gives a readable message for a 500 without our body', async () => {
    setLocale('zh-CN')
    const error = await errorOf(new Response('Internal Server Error', { status: 500 }), true)
    expect(error?.message).toBe('服务器出错，请稍后再试')
  })
  it('translates pydantic error types in the current language', () => {
    setLocale('en-US')
    expect(translateFieldType('missing')).toBe('Required')
    setLocale('zh-CN')
    expect(translateFieldType('missing')).toBe('必填')
    expect(translateFieldType('no_such_type')).toBeNull()
  })
})
