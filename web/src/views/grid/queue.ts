/** The grid worker's offline report queue. A report is stored first (IndexedDB on the phone)
 * with a client key made here, then sent; a retry after a lost connection or a lost answer
 * sends the same key, and the server returns the event it already made (no duplicates).
 * Photos follow once the event exists; each sent photo is remembered so a retry resumes. */

export interface QueuedPhoto {
  name: string
  kind: 'photo' | 'before' | 'after'
  blob: Blob
}

export interface QueuedReport {
  key: string
  body: Record<string, unknown>
  photos: QueuedPhoto[]
  createdAt: number
  /** the event's code once the server made it */
  code?: string
  /** photos already sent */
  uploaded: number
  /** the server refused the report (4xx): kept for the user, not retried */
  error?: string
}

export interface QueueStore {
  all(): Promise<QueuedReport[]>
  put(item: QueuedReport): Promise<void>
  remove(key: string): Promise<void>
}

export interface Sender {
  create(body: Record<string, unknown>): Promise<{ code: string }>
  attach(code: string, photo: QueuedPhoto): Promise<void>
}

/** How a failure is judged: lost connection (retry later) or refusal (stop, tell the user). */
export type Classify = (error: unknown) => 'retry' | 'refused'

export function newKey(random: () => string = () => crypto.randomUUID()): string {
  return `g-${random().replace(/[^A-Za-z0-9]/g, '').slice(0, 40)}`
}

export class MemoryStore implements QueueStore {
  items = new Map<string, QueuedReport>()
  async all(): Promise<QueuedReport[]> {
    return [...this.items.values()].sort((a, b) => a.createdAt - b.createdAt).map((i) => ({ ...i }))
  }
  async put(item: QueuedReport): Promise<void> {
    this.items.set(item.key, { ...item })
  }
  async remove(key: string): Promise<void> {
    this.items.delete(key)
  }
}

export interface FlushResult {
  sent: { key: string; code: string }[]
  pending: number
  refused: number
}

export class ReportQueue {
  private running: Promise<FlushResult> | null = null

  constructor(
    private readonly store: QueueStore,
    private readonly sender: Sender,
    private readonly classify: Classify,
    private readonly now: () => number = () => Date.now(),
  ) {}

  async enqueue(body: Record<string, unknown>, photos: QueuedPhoto[] = [], key: string = newKey()): Promise<QueuedReport> {
    const item: QueuedReport = { key, body: { ...body, client_key: key }, photos, createdAt: this.now(), uploaded: 0 }
    await this.store.put(item)
    return item
  }

  items(): Promise<QueuedReport[]> {
    return this.store.all()
  }

  discard(key: string): Promise<void> {
    return this.store.remove(key)
  }

  /** Sends what is waiting, oldest first; one flush at a time (a second call shares it). */
  flush(): Promise<FlushResult> {
    this.running ??= this.run().finally(() => {
      this.running = null
    })
    return this.running
  }

  private async run(): Promise<FlushResult> {
    const result: FlushResult = { sent: [], pending: 0, refused: 0 }
    let offline = false
    for (const item of await this.store.all()) {
      if (item.error) {
        result.refused += 1
        continue
      }
      if (offline) {
        result.pending += 1
        continue
      }
      const outcome = await this.deliver(item)
      if (outcome === 'sent') result.sent.push({ key: item.key, code: item.code as string })
      else if (outcome === 'refused') result.refused += 1
      else {
        offline = true // the rest waits for the next flush
        result.pending += 1
      }
    }
    return result
  }

  private async deliver(item: QueuedReport): Promise<'sent' | 'retry' | 'refused'> {
    try {
      if (!item.code) {
        item.code = (await this.sender.create(item.body)).code
        await this.store.put(item)
      }
      while (item.uploaded < item.photos.length) {
        await this.sender.attach(item.code, item.photos[item.uploaded])
        item.uploaded += 1
        await this.store.put(item)
      }
      await this.store.remove(item.key)
      return 'sent'
    } catch (error) {
      if (this.classify(error) === 'retry') return 'retry'
      item.error = error instanceof Error ? error.message : String(error)
      await this.store.put(item)
      return 'refused'
    }
  }
}

/** The phone's store: IndexedDB keeps photos (Blobs) across reloads and restarts. */
export class IdbStore implements QueueStore {
  private db: Promise<IDBDatabase> | null = null

  constructor(private readonly name = 'shiyu-grid') {}

  private open(): Promise<IDBDatabase> {
    this.db ??= new Promise((resolve, reject) => {
      const request = indexedDB.open(this.name, 1)
      request.onupgradeneeded = () => request.result.createObjectStore('reports', { keyPath: 'key' })
      request.onsuccess = () => resolve(request.result)
      request.onerror = () => reject(request.error)
    })
    return this.db
  }

  private async run<T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
    const db = await this.open()
    return new Promise((resolve, reject) => {
      const tx = db.transaction('reports', mode)
      const request = work(tx.objectStore('reports'))
      tx.oncomplete = () => resolve(request.result)
      tx.onerror = () => reject(tx.error)
    })
  }

  async all(): Promise<QueuedReport[]> {
    const rows = await this.run<QueuedReport[]>('readonly', (s) => s.getAll() as IDBRequest<QueuedReport[]>)
    return rows.sort((a, b) => a.createdAt - b.createdAt)
  }

  async put(item: QueuedReport): Promise<void> {
    await this.run('readwrite', (s) => s.put(item))
  }

  async remove(key: string): Promise<void> {
    await this.run('readwrite', (s) => s.delete(key))
  }
}
