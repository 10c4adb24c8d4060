/** Server-Sent Events read with fetch, so the request carries the Authorization header
 * (EventSource cannot send headers, and a token in the URL would end up in logs). */

export interface SseMessage {
  event: string
  data: string
}

/** Splits the buffered text into complete messages; returns them and the unfinished rest. */
export function parseSse(buffer: string): { messages: SseMessage[]; rest: string } {
  const normalised = buffer.replace(/\r\n?/g, '\n')
  const blocks = normalised.split('\n\n')
  const rest = blocks.pop() ?? ''
  const messages: SseMessage[] = []
  for (const block of blocks) {
    let event = 'message'
    const data: string[] = []
    let seen = false
    for (const line of block.split('\n')) {
      if (!line || line.startsWith(':')) continue // comments keep the connection alive
      const colon = line.indexOf(':')
      const field = colon < 0 ? line : line.slice(0, colon)
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
      if (field === 'event') {
        event = value
        seen = true
      } else if (field === 'data') {
        data.push(value)
        seen = true
      }
    }
    if (seen) messages.push({ event, data: data.join('\n') })
  }
  return { messages, rest }
}

export interface StreamOptions {
  url: () => string
  headers: () => Record<string, string>
  onMessage: (message: SseMessage) => void
  /** connected or not, for the page's live indicator */
  onState?: (live: boolean) => void
  /** the answer was not 200 (401: the login expired) */
  onRefused?: (status: number) => void
  retryMs?: number
}

/** Reads the stream and reconnects after it ends or fails, until the returned stop(). */
export function openStream(options: StreamOptions): () => void {
  let stopped = false
  let controller: AbortController | null = null
  let timer: ReturnType<typeof setTimeout> | null = null
  const retry = options.retryMs ?? 3000

  async function run(): Promise<void> {
    controller = new AbortController()
    try {
      const response = await fetch(options.url(), { headers: { ...options.headers(), Accept: 'text/event-stream' }, signal: controller.signal })
      if (!response.ok || !response.body) {
        options.onRefused?.(response.status)
        if (response.status === 401 || response.status === 403 || response.status === 404) {
          options.onState?.(false)
          return // reconnecting would not help
        }
        throw new Error(`HTTP ${response.status}`)
      }
      options.onState?.(true)
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
      let buffer = ''
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        const parsed = parseSse(buffer + value)
        buffer = parsed.rest
        parsed.messages.forEach(options.onMessage)
      }
    } catch {
      // network error or abort: fall through to the retry below
    }
    options.onState?.(false)
    if (!stopped) timer = setTimeout(() => void run(), retry)
  }

  void run()
  return () => {
    stopped = true
    if (timer) clearTimeout(timer)
    controller?.abort()
  }
}
