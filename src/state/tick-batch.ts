/**
 * Collects the calls made in one tick and hands them on in chunks of bounded size: the shared shape
 * of the Redis adapter's coalesced script calls (`redis-read-batch.ts`, `redis-write-batch.ts`).
 */

/** One queued call: what it asked, and how to answer it. */
export interface Queued<Item, Reply> {
  readonly item: Item;
  readonly resolve: (reply: Reply) => void;
  readonly reject: (err: unknown) => void;
}

export abstract class TickBatch<Item, Reply> {
  private queue: Queued<Item, Reply>[] = [];
  private scheduled = false;

  /**
   * @param maxSize most total size one chunk carries (a single larger call still goes alone).
   * @param sizeOf the size a call adds to its chunk.
   */
  constructor(
    private readonly maxSize: number,
    private readonly sizeOf: (item: Item) => number,
  ) {}

  /** Queues a call; it leaves with the other calls of this tick, and settles with its chunk. */
  add(item: Item): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        process.nextTick(() => this.flush());
      }
    });
  }

  /** Sends one chunk; must settle every call in it. */
  protected abstract send(chunk: readonly Queued<Item, Reply>[]): void;

  private flush(): void {
    this.scheduled = false;
    const queue = this.queue;
    this.queue = [];
    let start = 0;
    while (start < queue.length) {
      let end = start;
      let size = 0;
      while (end < queue.length) {
        const items = this.sizeOf((queue[end] as Queued<Item, Reply>).item);
        if (end > start && size + items > this.maxSize) break;
        size += items;
        end++;
      }
      this.send(queue.slice(start, end));
      start = end;
    }
  }
}
