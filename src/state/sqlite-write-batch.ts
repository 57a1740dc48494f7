/** Group commit for the SQLite state adapter: callers queue reads and writes and wait; one flush per event-loop turn serves them all in one transaction. */

import type { StateQuery, StateSnapshot, StateUpdate } from "./port.js";

/** The calls of one batch, in arrival order: `reads` (claims included) and `writes`. */
export interface QueuedBatch {
  readonly reads: readonly { readonly query: StateQuery; readonly now: number }[];
  readonly writes: readonly { readonly updates: readonly StateUpdate[]; readonly now: number }[];
}

interface Waiting<T> {
  readonly resolve: (value: T) => void;
  readonly reject: (err: unknown) => void;
}

export interface WriteBatchOptions {
  /** Flush at once, without waiting for the turn to end, when this many updates and reads wait. Default 2,048. */
  readonly maxItems?: number;
}

/**
 * Queues calls and hands each batch to `commit`, which must serve it in one all-or-nothing
 * transaction and return one snapshot per read. A call settles once its batch has committed; when
 * a batch fails, every call in it rejects with the batch's error.
 *
 * Reads may be served before the writes of the same batch: a write resolves only when its batch
 * commits, so every read queued beside it is concurrent with it, and either order is correct.
 * Writes keep their arrival order.
 */
export class SqliteWriteBatch {
  private readonly maxItems: number;
  private reads: { query: StateQuery; now: number }[] = [];
  private readWaiters: Waiting<StateSnapshot>[] = [];
  private writes: { updates: readonly StateUpdate[]; now: number }[] = [];
  private writeWaiters: Waiting<void>[] = [];
  private queuedItems = 0;
  private scheduled = false;

  constructor(
    private readonly commit: (batch: QueuedBatch) => readonly StateSnapshot[],
    options: WriteBatchOptions = {},
  ) {
    this.maxItems = Math.max(1, options.maxItems ?? 2_048);
  }

  read(query: StateQuery, now: number): Promise<StateSnapshot> {
    return new Promise<StateSnapshot>((resolve, reject) => {
      this.reads.push({ query, now });
      this.readWaiters.push({ resolve, reject });
      this.queued(1);
    });
  }

  write(updates: readonly StateUpdate[], now: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.writes.push({ updates, now });
      this.writeWaiters.push({ resolve, reject });
      this.queued(updates.length);
    });
  }

  /** Commits everything waiting now, synchronously; callers' promises settle afterwards. */
  flush(): void {
    if (this.reads.length === 0 && this.writes.length === 0) return;
    const batch: QueuedBatch = { reads: this.reads, writes: this.writes };
    const readWaiters = this.readWaiters;
    const writeWaiters = this.writeWaiters;
    this.reads = [];
    this.writes = [];
    this.readWaiters = [];
    this.writeWaiters = [];
    this.queuedItems = 0;
    let snapshots: readonly StateSnapshot[];
    try {
      snapshots = this.commit(batch);
    } catch (err) {
      for (const w of readWaiters) w.reject(err);
      for (const w of writeWaiters) w.reject(err);
      return;
    }
    readWaiters.forEach((w, i) => {
      const snapshot = snapshots[i];
      if (snapshot) w.resolve(snapshot);
      else w.reject(new Error("state batch returned no snapshot for a read"));
    });
    for (const w of writeWaiters) w.resolve();
  }

  private queued(items: number): void {
    this.queuedItems += items;
    if (this.queuedItems >= this.maxItems) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      // setImmediate, not a microtask: every decision that reaches the store in this turn joins the batch.
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }
}
