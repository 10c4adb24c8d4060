import { describe, expect, it } from 'vitest'
import { MemoryStore, ReportQueue, newKey, type QueuedPhoto, type Sender } from './queue'

class Offline extends Error {}
class Refused extends Error {}

/** A fake server with the real API's rule: the same client key gives the same event. */
class FakeServer implements Sender {
  online = true
  /** make the event but lose the answer (the connection drops after the server commits) */
  loseNextAnswer = false
  events = new Map<string, string>()
  photos: { code: string; name: string }[] = []
  creates = 0

  async create(body: Record<string, unknown>): Promise<{ code: string }> {
    if (!this.online) throw new Offline('offline')
    this.creates += 1
    if (!body.title) throw new Refused('标题必填')
    const key = String(body.client_key)
    if (!this.events.has(key)) this.events.set(key, `E${this.events.size + 1}`)
    if (this.loseNextAnswer) {
      this.loseNextAnswer = false
      throw new Offline('answer lost')
    }
    return { code: this.events.get(key) as string }
  }

  async attach(code: string, photo: QueuedPhoto): Promise<void> {
    if (!this.online) throw new Offline('offline')
    this.photos.push({ code, name: photo.name })
  }
}

function setup() {
  const store = new MemoryStore()
  const server = new FakeServer()
  let t = 0
  const queue = new ReportQueue(store, server, (e) => (e instanceof Offline ? 'retry' : 'refused'), () => ++t)
  return { store, server, queue }
}

const photo = (name: string): QueuedPhoto => ({ name, kind: 'photo', blob: new Blob(['x']) })

describe('the offline report queue', () => {
  it('keeps reports made offline and sends each exactly once when back online', async () => {
    const { server, queue } = setup()
    server.online = false
    await queue.enqueue({ title: '一' })
    await queue.enqueue({ title: '二' })
    expect((await queue.flush()).pending).toBe(2)
    expect((await queue.flush()).pending).toBe(2) // retried while still offline
    server.online = true
    const result = await queue.flush()
    expect(result.sent.map((s) => s.code)).toEqual(['E1', 'E2'])
    expect(server.events.size).toBe(2)
    expect(await queue.items()).toEqual([])
    expect((await queue.flush()).sent).toEqual([]) // nothing left to send again
  })

  it('a lost answer is retried with the same key: still one event', async () => {
    const { server, queue } = setup()
    const item = await queue.enqueue({ title: '井盖' })
    expect(item.body.client_key).toBe(item.key)
    server.loseNextAnswer = true
    expect((await queue.flush()).pending).toBe(1)
    const result = await queue.flush()
    expect(result.sent).toEqual([{ key: item.key, code: 'E1' }])
    expect(server.creates).toBe(2)
    expect(server.events.size).toBe(1)
  })

  it('photos follow the event and resume after a break', async () => {
    const { server, queue } = setup()
    await queue.enqueue({ title: '占道' }, [photo('a.jpg'), photo('b.jpg')])
    const attach = server.attach.bind(server)
    let calls = 0
    server.attach = async (code, p) => {
      calls += 1
      if (calls === 2) throw new Offline('dropped')
      return attach(code, p)
    }
    expect((await queue.flush()).pending).toBe(1)
    expect((await queue.items())[0]).toMatchObject({ code: 'E1', uploaded: 1 })
    await queue.flush()
    expect(server.photos).toEqual([{ code: 'E1', name: 'a.jpg' }, { code: 'E1', name: 'b.jpg' }])
    expect(server.creates).toBe(1)
  })

  it('a refused report stays for the user and is not retried', async () => {
    const { server, queue } = setup()
    await queue.enqueue({ title: '' })
    await queue.enqueue({ title: '好的' })
    const result = await queue.flush()
    expect(result.refused).toBe(1)
    expect(result.sent).toHaveLength(1)
    const left = await queue.items()
    expect(left).toHaveLength(1)
    expect(left[0].error).toBe('标题必填')
    await queue.flush()
    expect(server.creates).toBe(2)
  })

  it('two flushes at once share one run', async () => {
    const { server, queue } = setup()
    await queue.enqueue({ title: '一' })
    const [a, b] = await Promise.all([queue.flush(), queue.flush()])
    expect(a).toBe(b)
    expect(server.creates).toBe(1)
  })

  it('makes keys the API accepts', () => {
    expect(newKey()).toMatch(/^[A-Za-z0-9_-]{8,64}$/)
    expect(newKey(() => 'ab-cd-ef-12')).toBe('g-abcdef12')
  })
})
