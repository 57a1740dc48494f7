/**
 * Group commit: callers enqueue items and wait; one committer drains them in batches (one
 * transaction per batch), so many concurrent decisions share one disk sync or one round trip.
 */

export interface GroupCommitOptions {
  /** Commit as soon as this many items wait. Default 256. */
  readonly maxBatch?: number;
  /** Commit a smaller batch after this many milliseconds. Default 2. */
  readonly maxDelayMs?: number;
  /**
   * When this many items wait, commit on the next turn of the event loop instead of waiting out
   * `maxDelayMs`: enough callers are already there to share the commit, and the timer would only
   * add latency to each of them. Default 8.
   */
  readonly deepQueue?: number;
  /** Most items held (waiting plus committing); further callers wait for room. Default 10 000. */
  readonly maxQueue?: number;
  /**
   * Batches committing at once. Default 1. With more, the next batch's `commit` starts as soon as
   * the previous one has handed its batch off (resolved with a `Handoff`), while it is still being
   * committed; `commit` calls never overlap, so a batch is still prepared after the one before it.
   */
  readonly pipeline?: number;
}

/** A batch handed to the store: `committed` settles once it is committed, or has failed. */
export interface Handoff {
  readonly committed: Promise<void>;
}

interface Waiting<T> {
  readonly item: T;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Commits items of type `T` in order; `commit` sees each batch once and must be all-or-nothing. It
 * either resolves once the batch is committed, or resolves early with a `Handoff` (see `pipeline`).
 */
export class GroupCommitQueue<T> {
  private readonly maxBatch: number;
  private readonly maxDelayMs: number;
  private readonly maxQueue: number;
  private readonly deepQueue: number;
  private readonly pipeline: number;
  /** Batches handed off and not yet committed. */
  private readonly open = new Set<Promise<void>>();
  private readonly waiting: Waiting<T>[] = [];
  private readonly roomWaiters: (() => void)[] = [];
  private inFlight = 0;
  private committing = false;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private idle: Promise<void> = Promise.resolve();
  private resolveIdle: (() => void) | undefined;

  constructor(
    // biome-ignore lint/suspicious/noConfusingVoidType: a committer that finishes the batch itself returns nothing
    private readonly commit: (batch: readonly T[]) => Promise<void | Handoff>,
    options: GroupCommitOptions = {},
  ) {
    this.maxBatch = Math.max(1, options.maxBatch ?? 256);
    this.maxDelayMs = Math.max(0, options.maxDelayMs ?? 2);
    this.maxQueue = Math.max(this.maxBatch, options.maxQueue ?? 10_000);
    this.deepQueue = Math.max(1, Math.min(this.maxBatch, options.deepQueue ?? 8));
    this.pipeline = Math.max(1, options.pipeline ?? 1);
  }

  /** Items waiting or being committed, for metrics. */
  get depth(): number {
    return this.waiting.length + this.inFlight;
  }

  /** Resolves once the item's batch is committed; rejects with the batch's error. */
  async push(item: T): Promise<void> {
    // Backpressure: wait for room rather than grow without bound.
    while (this.depth >= this.maxQueue) await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (this.resolveIdle === undefined) this.idle = new Promise<void>((r) => (this.resolveIdle = r));
      this.schedule();
    });
  }

  /** Commits everything queued so far; resolves when the queue is empty. */
  async flush(): Promise<void> {
    this.cancelWakeUps();
    if (this.waiting.length > 0 && !this.committing) void this.drain();
    await this.idle;
  }

  private cancelWakeUps(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  private schedule(): void {
    if (this.committing) return;
    if (this.waiting.length >= this.maxBatch) {
      this.cancelWakeUps();
      void this.drain();
    } else if (this.waiting.length >= this.deepQueue) {
      // callers that arrive in this turn of the event loop still join the batch
      if (this.immediate === undefined) {
        if (this.timer) clearTimeout(this.timer);
        this.timer = undefined;
        this.immediate = setImmediate(() => {
          this.immediate = undefined;
          void this.drain();
        });
      }
    } else if (this.timer === undefined && this.immediate === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.drain();
      }, this.maxDelayMs);
    }
  }

  private async drain(): Promise<void> {
    if (this.committing) return;
    this.committing = true;
    try {
      while (this.waiting.length > 0) {
        while (this.open.size >= this.pipeline) await Promise.race(this.open);
        const batch = this.waiting.splice(0, this.maxBatch);
        this.inFlight += batch.length;
        let committed: Promise<void>;
        try {
          const handoff = await this.commit(batch.map((w) => w.item));
          committed = handoff ? handoff.committed : Promise.resolve();
        } catch (err) {
          committed = Promise.reject(err);
        }
        const settled: Promise<void> = committed
          .then(
            () => {
              for (const w of batch) w.resolve();
            },
            (err: unknown) => {
              for (const w of batch) w.reject(err);
            },
          )
          .finally(() => {
            this.open.delete(settled);
            this.inFlight -= batch.length;
            for (const wake of this.roomWaiters.splice(0)) wake();
            this.settleIdle();
          });
        this.open.add(settled);
        if (this.pipeline === 1) await settled;
        // A partial batch waits for company (a short one for the timer, a deep one for this turn's
        // callers only) unless it is the tail of a backlog.
        const n = this.waiting.length;
        if (n > 0 && n < this.maxBatch && this.timer === undefined && this.immediate === undefined) {
          await new Promise<void>((resolve) =>
            n >= this.deepQueue ? setImmediate(resolve) : setTimeout(resolve, this.maxDelayMs),
          );
        }
      }
    } finally {
      this.committing = false;
      this.settleIdle();
    }
  }

  private settleIdle(): void {
    if (this.committing || this.waiting.length > 0 || this.open.size > 0) return;
    this.resolveIdle?.();
    this.resolveIdle = undefined;
  }
}
