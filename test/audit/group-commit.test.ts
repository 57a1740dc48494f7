/** Group commit: batching, order, bounded queue with backpressure, failures per batch, flush. */

import { describe, expect, it } from "vitest";
import { GroupCommitQueue } from "../../src/audit/group-commit.js";

/** A commit function whose batches complete only when the test releases them. */
function gatedCommit() {
  const batches: number[][] = [];
  const gates: (() => void)[] = [];
  const commit = (batch: readonly number[]) =>
    new Promise<void>((resolve) => {
      batches.push([...batch]);
      gates.push(resolve);
    });
  const releaseAll = async () => {
    while (gates.length > 0) {
      gates.shift()?.();
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  return { batches, gates, commit, releaseAll };
}

describe("group commit", () => {
  it("commits concurrent items in batches of at most maxBatch, in order", async () => {
    const batches: number[][] = [];
    const q = new GroupCommitQueue<number>(async (b) => void batches.push([...b]), { maxBatch: 10, maxDelayMs: 1 });
    await Promise.all(Array.from({ length: 35 }, (_, i) => q.push(i)));
    expect(batches.flat()).toEqual(Array.from({ length: 35 }, (_, i) => i));
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(10);
    expect(batches.length).toBeLessThan(35);
    expect(q.depth).toBe(0);
  });

  it("resolves a push only once its batch is committed", async () => {
    const g = gatedCommit();
    const q = new GroupCommitQueue<number>(g.commit, { maxBatch: 2, maxDelayMs: 1 });
    let done = false;
    const p = q.push(1).then(() => {
      done = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(g.batches).toEqual([[1]]);
    expect(done).toBe(false);
    expect(q.depth).toBe(1);
    await g.releaseAll();
    await p;
    expect(done).toBe(true);
  });

  it("makes callers wait when the queue is full instead of growing it", async () => {
    const g = gatedCommit();
    const q = new GroupCommitQueue<number>(g.commit, { maxBatch: 4, maxDelayMs: 1, maxQueue: 8 });
    let resolved = 0;
    const all = Array.from({ length: 30 }, (_, i) => q.push(i).then(() => void resolved++));
    await new Promise((r) => setTimeout(r, 20));
    expect(q.depth).toBe(8);
    expect(resolved).toBe(0);
    let maxDepth = 0;
    while (g.gates.length > 0) {
      maxDepth = Math.max(maxDepth, q.depth);
      g.gates.shift()?.();
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(all);
    expect(maxDepth).toBeLessThanOrEqual(8);
    expect(g.batches.flat()).toEqual(Array.from({ length: 30 }, (_, i) => i));
  });

  it("rejects every item of a failed batch and goes on with the next", async () => {
    let calls = 0;
    const q = new GroupCommitQueue<number>(
      async () => {
        calls++;
        if (calls === 1) throw new Error("disk full");
      },
      { maxBatch: 3, maxDelayMs: 1 },
    );
    const first = [1, 2, 3].map((n) => q.push(n));
    const results = await Promise.allSettled(first);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
    await expect(q.push(4)).resolves.toBeUndefined();
  });

  it("flush commits a partial batch without waiting for company", async () => {
    const batches: number[][] = [];
    const q = new GroupCommitQueue<number>(async (b) => void batches.push([...b]), {
      maxBatch: 100,
      maxDelayMs: 10_000,
    });
    const p = q.push(7);
    await q.flush();
    await p;
    expect(batches).toEqual([[7]]);
  });
});
