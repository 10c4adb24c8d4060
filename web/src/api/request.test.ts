import { afterEach, describe, expect, it, vi } from 'vitest'
import { client, hooks, ok } from './request'
import { ApiError } from './errors'
import { setLocale } from '@/locales'

afterEach(() => {
  vi.unstubAllGlobals()
  hooks.token = () => null
})

describe('the request client', () => {
  it('sends the bearer token and the language', async () => {
    const seen: Request[] = []
    vi.stubGlobal('fetch', async (request: Request) => {
      seen.push(request)
      return new Response(JSON.stringify([]), { status: 200, headers: { 'Content-Type': 'application/json' } })
    })
    hooks.token = () => 'tok-123'
    setLocale('en-US')
    await ok(client.GET('/api/v1/events/meta/transitions'))
    expect(seen[0].headers.get('Authorization')).toBe('Bearer tok-123')
    expect(seen[0].headers.get('Accept-Language')).toBe('en-US')
    setLocale('zh-CN')
  })

  it('turns a lost connection into a network ApiError with a clear message', async () => {
    vi.stubGlobal('fetch', async () => {
      throw new TypeError('Failed to fetch')
    })
    const failure = ok(client.GET('/api/v1/events/meta/transitions')).catch((e: unknown) => e)
    const error = (await failure) as ApiError
    expect(error).toBeInstanceOf(ApiError)
    expect(error.isNetwork).toBe(true)
    expect(error.message).toContain('网络连接失败')
  })

  it('throws the API error with its field errors', async () => {
    vi.stubGlobal('fetch', async () =>
      new Response(
        JSON.stringify({ error: { code: 'validation_error', message: '输入数据无效', details: [{ loc: ['body', 'reason'], msg: 'x', type: 'string_too_long' }] } }),
        { status: 422, headers: { 'Content-Type': 'application/json' } },
      ),
    )
    const error = (await ok(client.POST('/api/v1/events/{code}/actions', { params: { path: { code: 'X' } }, body: { action: 'reject' } })).catch((e: unknown) => e)) as ApiError
    expect(error.status).toBe(422)
    expect(error.fields).toEqual({ reason: '内容过长' })
  })
})
