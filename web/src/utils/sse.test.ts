import { describe, expect, it } from 'vitest'
import { parseSse } from './sse'

describe('parseSse', () => {
  it('reads complete messages and keeps the unfinished rest', () => {
    const { messages, rest } = parseSse('retry: 3000\nevent: ready\ndata: {"at": 1}\n\nevent: chan')
    expect(messages).toEqual([{ event: 'ready', data: '{"at": 1}' }])
    expect(rest).toBe('event: chan')
    const next = parseSse(rest + 'ged\ndata: x\n\n')
    expect(next.messages).toEqual([{ event: 'changed', data: 'x' }])
    expect(next.rest).toBe('')
  })

  it('skips comments and joins multi-line data; CRLF works', () => {
    const { messages } = parseSse(': ping\n\r\ndata: a\r\ndata: b\r\n\r\n')
    expect(messages).toEqual([{ event: 'message', data: 'a\nb' }])
  })
})
