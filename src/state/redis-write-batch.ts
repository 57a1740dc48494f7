/**
 * Coalesces the state writes issued in one event-loop turn (the writes of every decision in flight
 * that finished in that turn) into one call of the write script. Each decision still waits for one
 * round trip, but Redis runs one script instead of one per decision, and the node builds and parses
 * one command. The batch is atomic as a whole, so each decision's write stays atomic; if the call
 * fails, every write in it fails with the same error (a decision's write never half-applies alone).
 *
 * Scripts cannot span Redis Cluster slots, and a batch spans identities: on a Redis Cluster the
 * store splits the call by slot (redis-cluster-split.ts, ADR 0020), and the batch is then atomic per
 * slot, not as a whole.
 */

import { PartialWriteFailure } from "./redis-part-failure.js";
import type { CopyOp } from "./redis-profile-cache.js";
import { type Queued, TickBatch } from "./tick-batch.js";

/** One decision's write in the write script's form: its keys, and its ops referring to them by 1-based index. */
export interface ScriptWrite {
  readonly keys: readonly string[];
  readonly ops: readonly (string | number)[];
  /** Positions in `ops` that hold a key index. */
  readonly keyRefs: readonly number[];
  /** Its profile updates, in order, for the node's copies (empty when the node keeps none). */
  readonly copyOps: readonly CopyOp[];
}

/**
 * Sends one call of the write script: `KEYS`, then the ops after the leading common arguments, and
 * the profile updates of every write in the call, in the order the script applies them.
 */
export type SendWrite = (
  keys: readonly string[],
  ops: readonly (string | number)[],
  copyOps: readonly CopyOp[],
) => Promise<unknown>;

/** Most op arguments one call carries; more waiting writes go in further calls of the same turn. */
const MAX_BATCH_ARGS = 8192;

export class WriteBatcher extends TickBatch<ScriptWrite, void> {
  /** Script calls sent so far, and writes they carried (for measurements). */
  calls = 0;
  writes = 0;

  constructor(private readonly sendWrite: SendWrite) {
    super(MAX_BATCH_ARGS, (write) => write.ops.length);
  }

  /** One call of the write script for a chunk, its keys merged and the ops' key indexes renumbered. */
  protected send(batch: readonly Queued<ScriptWrite, void>[]): void {
    this.calls += 1;
    this.writes += batch.length;
    let call: Promise<unknown>;
    if (batch.length === 1) {
      const { item: write } = batch[0] as Queued<ScriptWrite, void>;
      call = this.sendWrite(write.keys, write.ops, write.copyOps);
    } else {
      const keys: string[] = [];
      const indexOf = new Map<string, number>();
      const ops: (string | number)[] = [];
      const copyOps: CopyOp[] = [];
      for (const { item: write } of batch) {
        const base = ops.length;
        for (const op of write.ops) ops.push(op);
        for (const op of write.copyOps) copyOps.push(op);
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
      call = this.sendWrite(keys, ops, copyOps);
    }
    call.then(
      () => {
        for (const q of batch) q.resolve();
      },
      (err: unknown) => {
        // On a Redis Cluster, only the writes with a key in a failed part fail; the others applied.
        if (err instanceof PartialWriteFailure) {
          for (const q of batch) {
            if (q.item.keys.some((k) => err.failedKeys.has(k))) q.reject(err.error);
            else q.resolve();
          }
          return;
        }
        for (const q of batch) q.reject(err);
      },
    );
  }
}
