/** Group commit under a deep queue: the commit runs on the next turn instead of after the timer, and stays durable. */

import { describe, expect, it } from "vitest";
import { GroupCommitQueue } from "../../src/audit/group-commit.js";

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("group commit with a deep queue", () => {
  it("commits a deep queue on the next turn, without waiting out the delay, in one batch", async () => {
    const batches: number[][] = [];
    const q = new GroupCommitQueue<number>(async (b) => void batches.push([...b]), {
      maxBatch: 100,
      maxDelayMs: 60_000,
      deepQueue: 4,
    });
    // six callers in one turn: the fourth arms the next-turn commit, the last two still join it
    await Promise.all([1, 2, 3, 4, 5, 6].map((n) => q.push(n)));
    expect(batches).toEqual([[1, 2, 3, 4, 5, 6]]);
  });

  it("leaves a shallow queue waiting for company", async () => {
    const batches: number[][] = [];
    const q = new GroupCommitQueue<number>(async (b) => void batches.push([...b]), {
      maxBatch: 100,
      maxDelayMs: 60_000,
      deepQueue: 4,
    });
    let done = 0;
    const pending = [1, 2].map((n) => q.push(n).then(() => void done++));
    await nextTurn();
    await nextTurn();
    expect(batches).toEqual([]);
    expect(done).toBe(0);
    await q.flush();
    await Promise.all(pending);
    expect(batches).toEqual([[1, 2]]);
  });

  it("answers a caller only after its batch is committed", async () => {
    const gates: (() => void)[] = [];
    const q = new GroupCommitQueue<number>(() => new Promise<void>((resolve) => gates.push(resolve)), {
      maxBatch: 100,
      maxDelayMs: 60_000,
      deepQueue: 2,
    });
    let done = 0;
    const pending = [1, 2, 3].map((n) => q.push(n).then(() => void done++));
    await nextTurn();
    await nextTurn();
    expect(gates.length).toBe(1);
    expect(done).toBe(0);
    gates.shift()?.();
    await Promise.all(pending);
    expect(done).toBe(3);
  });
});
