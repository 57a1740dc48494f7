/**
 * Coalesces the state writes issued in one event-loop turn (the writes of every decision in flight
 * that finished in that turn) into one call of the write script. Each decision still waits for one
 * round trip, but Redis runs one script instead of one per decision, and the node builds and parses
 * one command. The batch is atomic as a whole, so each decision's write stays atomic; if the call
 * fails, every write in it fails with the same error (a decision's write never half-applies alone).
 *
 * Scripts cannot span Redis Cluster slots, and a batch spans identities. The adapter talks to one
 * Redis (with or without replicas or Sentinel), where this does not matter; see docs/state.md.
 */

/** One decision's write in the write script's form: its keys, and its ops referring to them by 1-based index. */
export interface ScriptWrite {
  readonly keys: readonly string[];
  readonly ops: readonly (string | number)[];
  /** Positions in `ops` that hold a key index. */
  readonly keyRefs: readonly number[];
}

/** Sends one call of the write script: `KEYS`, then the ops after the leading common arguments. */
export type SendWrite = (keys: readonly string[], ops: readonly (string | number)[]) => Promise<unknown>;

interface Queued {
  readonly write: ScriptWrite;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/** Most op arguments one call carries; more waiting writes go in further calls of the same turn. */
const MAX_BATCH_ARGS = 8192;

export class WriteBatcher {
  private queue: Queued[] = [];
  private scheduled = false;
  /** Script calls sent so far, and writes they carried (for measurements). */
  calls = 0;
  writes = 0;

  constructor(private readonly send: SendWrite) {}

  /** Queues a write; resolves once the call carrying it has been applied. */
  add(write: ScriptWrite): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ write, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        process.nextTick(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const queue = this.queue;
    this.queue = [];
    let start = 0;
    while (start < queue.length) {
      let end = start;
      let size = 0;
      while (
        end < queue.length &&
        (end === start || size + (queue[end] as Queued).write.ops.length <= MAX_BATCH_ARGS)
      ) {
        size += (queue[end] as Queued).write.ops.length;
        end++;
      }
      this.sendBatch(queue.slice(start, end));
      start = end;
    }
  }

  private sendBatch(batch: readonly Queued[]): void {
    this.calls += 1;
    this.writes += batch.length;
    let call: Promise<unknown>;
    if (batch.length === 1) {
      const { write } = batch[0] as Queued;
      call = this.send(write.keys, write.ops);
    } else {
      const keys: string[] = [];
      const indexOf = new Map<string, number>();
      const ops: (string | number)[] = [];
      for (const { write } of batch) {
        const base = ops.length;
        for (const op of write.ops) ops.push(op);
        for (const at of write.keyRefs) {
          const key = write.keys[(ops[base + at] as number) - 1] as string;
          let index = indexOf.get(key);
          if (index === undefined) {
            index = keys.push(key);
            indexOf.set(key, index);
          }
          ops[base + at] = index;
        }
      }
      call = this.send(keys, ops);
    }
    call.then(
      () => {
        for (const q of batch) q.resolve();
      },
      (err: unknown) => {
        for (const q of batch) q.reject(err);
      },
    );
  }
}
