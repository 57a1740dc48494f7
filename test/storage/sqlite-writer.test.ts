/** The SQLite writer thread, against real database files: order, batches, failures, backpressure, death. */

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SqliteWriter, type SqliteWriterOptions, type WriteOp } from "../../src/storage/sqlite-writer.js";

let dir: string;
let file: string;
const writers: SqliteWriter[] = [];

const STATEMENTS = {
  insert: "INSERT INTO items (k, v) VALUES (?, ?)",
  bump: "UPDATE items SET v = v + ? WHERE k = ?",
  note: "INSERT INTO notes (a, b, c) VALUES (?, ?, ?)",
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "signalbox-writer-"));
  file = join(dir, "w.db");
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.exec("CREATE TABLE items (n INTEGER PRIMARY KEY AUTOINCREMENT, k TEXT NOT NULL UNIQUE, v INTEGER NOT NULL)");
  db.exec("CREATE TABLE notes (n INTEGER PRIMARY KEY AUTOINCREMENT, a, b, c)");
  db.close();
});

afterEach(async () => {
  for (const w of writers.splice(0)) await w.close();
  rmSync(dir, { recursive: true, force: true });
});

async function open(options: Partial<SqliteWriterOptions> = {}): Promise<SqliteWriter> {
  const w = await SqliteWriter.open({ file, synchronous: "NORMAL", statements: STATEMENTS, label: "test", ...options });
  writers.push(w);
  return w;
}

/** Reads through a fresh connection, as another process would. */
function rows(): { k: string; v: number }[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare("SELECT k, v FROM items ORDER BY n").all() as { k: string; v: number }[];
  } finally {
    db.close();
  }
}

const insert = (k: string, v = 0): WriteOp => ["insert", k, v];
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Holds the write lock from another connection, so the worker waits (busy_timeout) until `release`. */
function lockDatabase(): { release(): void } {
  const db = new Database(file);
  db.exec("BEGIN IMMEDIATE");
  return {
    release() {
      db.exec("COMMIT");
      db.close();
    },
  };
}

describe("SqliteWriter", () => {
  it("commits in push order, and a fresh connection sees the rows once push resolves", async () => {
    const w = await open();
    await w.push([insert("a"), insert("b")]);
    expect(rows()).toEqual([
      { k: "a", v: 0 },
      { k: "b", v: 0 },
    ]);
    await Promise.all([w.push([insert("c")]), w.push([["bump", 5, "c"]]), w.push([["insert", "d", 7n]])]);
    expect(rows().map((r) => `${r.k}${r.v}`)).toEqual(["a0", "b0", "c5", "d7"]);
    expect(w.depth).toBe(0);
  });

  it("passes every parameter type through unchanged", async () => {
    const w = await open();
    const values: [string, string | number | bigint | null, string | number | null][] = [
      ["", null, 0],
      ["ключ 🔑 é", 1.5, "x"],
      ["a\u0000b", 2n ** 40n, ""],
      ["€".repeat(3000), -7, null],
    ];
    await w.push(values.map((v) => ["note", ...v] as WriteOp));
    const db = new Database(file, { readonly: true });
    db.defaultSafeIntegers(true);
    const got = db.prepare("SELECT a, b, c FROM notes ORDER BY n").raw().all();
    db.close();
    expect(got).toEqual([
      ["", null, 0], // a JS number binds as REAL; a bigint as INTEGER
      ["ключ 🔑 é", 1.5, "x"],
      ["a\u0000b", 2n ** 40n, ""],
      ["€".repeat(3000), -7, null],
    ]);
  });

  it("passes large strings through intact, around the shared text buffer and past its size", async () => {
    const w = await open();
    const big = (i: number, chars: number): string => `${i}:${"é€x".repeat(chars / 3)}`;
    // In flight together: the first fit the shared buffer, the rest are cloned.
    const lock = lockDatabase();
    const together: Promise<unknown>[] = [];
    for (let i = 0; i < 6; i++) {
      together.push(w.push([["note", big(i, 600_000), i, null]]));
      await nextTurn();
    }
    lock.release();
    await Promise.all(together);
    // One after another: the buffer is reused, wrapping around several times.
    for (let i = 6; i < 30; i++) await w.push([["note", big(i, 300_000), i, big(-i, 3)]]);
    // Larger than the whole buffer.
    await w.push([["note", big(30, 3_000_000), 30, null]]);
    const db = new Database(file, { readonly: true });
    const got = db.prepare("SELECT a, b, c FROM notes ORDER BY n").raw().all() as [string, number, string | null][];
    db.close();
    expect(got).toHaveLength(31);
    for (const [i, [a, b, c]] of got.entries()) {
      expect(b).toBe(i);
      expect(a === big(i, i < 6 ? 600_000 : i < 30 ? 300_000 : 3_000_000)).toBe(true);
      expect(c).toBe(i >= 6 && i < 30 ? big(-i, 3) : null);
    }
  });

  it("runs one transaction per turn: a failing op rolls back its whole batch and rejects only its callers", async () => {
    const w = await open();
    await w.push([insert("a")]);
    const x = w.push([insert("x")]);
    const y = w.push([insert("y"), insert("a")]); // "a" exists: the whole batch fails
    await nextTurn();
    const z = w.push([insert("z")]); // the next turn: its own batch
    const settled = await Promise.allSettled([x, y, z]);
    expect(settled.map((s) => s.status)).toEqual(["rejected", "rejected", "fulfilled"]);
    expect(String((settled[0] as PromiseRejectedResult).reason)).toMatch(/UNIQUE constraint failed: items.k/);
    expect(rows().map((r) => r.k)).toEqual(["a", "z"]);
    await w.push([insert("after")]);
    expect(rows().map((r) => r.k)).toEqual(["a", "z", "after"]);
  });

  it("pipelines: the next batch is sent before the previous one is acknowledged, and they commit in order", async () => {
    const w = await open();
    const lock = lockDatabase();
    const first = w.push([insert("1")]);
    await nextTurn();
    const second = w.push([insert("2")]);
    await nextTurn();
    await nextTurn();
    expect(w.inFlight).toBe(2);
    expect(w.depth).toBe(2);
    lock.release();
    await Promise.all([first, second]);
    expect(rows().map((r) => r.k)).toEqual(["1", "2"]);
    expect(w.inFlight).toBe(0);
  });

  it("does not run an afterPrevious batch whose predecessor failed, even when already sent", async () => {
    const w = await open();
    await w.push([insert("a")]);
    const lock = lockDatabase();
    const failing = w.push([insert("a")]);
    await nextTurn();
    const built = w.push([insert("b")], { afterPrevious: true });
    await nextTurn();
    const fresh = w.push([insert("c")]);
    await nextTurn();
    const after = w.push([insert("d")], { afterPrevious: true });
    expect(w.inFlight).toBe(3);
    lock.release();
    const settled = await Promise.allSettled([failing, built, fresh, after]);
    expect(settled.map((s) => s.status)).toEqual(["rejected", "rejected", "fulfilled", "fulfilled"]);
    expect(String((settled[1] as PromiseRejectedResult).reason)).toMatch(
      /the batch before it, which it builds on, did not commit/,
    );
    expect(rows().map((r) => r.k)).toEqual(["a", "c", "d"]);
  });

  it("sends a push marked alone as a batch of its own at once, so one turn's batches pipeline", async () => {
    const w = await open();
    const first = w.push([insert("a", 1)], { alone: true });
    const second = w.push([insert("b", 2)], { alone: true });
    // Both are with the thread already, not merged into this turn's batch.
    expect(w.inFlight).toBe(2);
    const joined = w.push([insert("c", 3)]);
    expect(w.inFlight).toBe(2);
    await Promise.all([first, second, joined]);
    expect(rows()).toEqual([
      { k: "a", v: 1 },
      { k: "b", v: 2 },
      { k: "c", v: 3 },
    ]);
  });

  it("runs a builder on the thread: its ops in the batch's transaction, its result with the answer, undone on rollback", async () => {
    const module = new URL("./fixtures/total-builder.ts", import.meta.url).href;
    const w = await open({ builder: { module, options: { start: 100 } } });
    expect(await w.push([["build", "a", 1], insert("plain", 7), ["build", "b", 2]])).toEqual({ total: 103 });
    // "a" exists: the batch rolls back, and so does the builder's total.
    await expect(
      w.push([
        ["build", "c", 10],
        ["build", "a", 1],
      ]),
    ).rejects.toThrow(/UNIQUE/);
    expect(await w.push([["build", "d", 5]])).toEqual({ total: 108 });
    expect(rows()).toEqual([
      { k: "a", v: 101 },
      { k: "plain", v: 7 },
      { k: "b", v: 103 },
      { k: "d", v: 108 },
    ]);
  });

  it("refuses a statement named like the builder's ops", async () => {
    const module = new URL("./fixtures/total-builder.ts", import.meta.url).href;
    await expect(
      open({ statements: { ...STATEMENTS, build: "SELECT 1" }, builder: { module, options: { start: 0 } } }),
    ).rejects.toThrow(/"build" names the builder's ops, not a statement/);
  });

  it("fails to open with an error naming a builder that does not load", async () => {
    const module = new URL("./fixtures/no-such-builder.ts", import.meta.url).href;
    await expect(open({ builder: { module, options: {} } })).rejects.toThrow(
      /test writer cannot open ".*w\.db" \(builder .*no-such-builder\.ts\)/,
    );
  });

  it("waits for room beyond maxQueuedOps, first come first served", async () => {
    const w = await open({ maxQueuedOps: 10 });
    const lock = lockDatabase();
    const ops = (prefix: string, n: number): WriteOp[] => Array.from({ length: n }, (_, i) => insert(`${prefix}${i}`));
    const a = w.push(ops("a", 6));
    const b = w.push(ops("b", 6)); // would make 12 > 10: waits
    const c = w.push(ops("c", 1)); // fits, but must not overtake b
    await nextTurn();
    await nextTurn();
    expect(w.depth).toBe(6);
    expect(w.inFlight).toBe(1);
    lock.release();
    await Promise.all([a, b, c]);
    expect(
      rows()
        .map((r) => r.k[0])
        .join(""),
    ).toBe("aaaaaabbbbbbc");
    // A push larger than the bound alone still goes through once the queue is empty.
    await w.push(ops("d", 25));
    expect(rows()).toHaveLength(38);
  });

  it("rejects pending and later pushes when the worker dies, and close still resolves", async () => {
    const w = await open();
    await w.push([insert("a")]);
    const pending = w.push([insert("b")]);
    await w.terminate();
    await expect(pending).rejects.toThrow(/test writer thread for ".*w\.db" ended/);
    await expect(w.push([insert("c")])).rejects.toThrow(/ended/);
    await w.flush();
    await w.close();
    expect(rows().map((r) => r.k)).not.toContain("c");
  });

  it("close flushes what was pushed, is idempotent, and refuses later pushes", async () => {
    const w = await open();
    const pushed = Array.from({ length: 50 }, (_, i) => w.push([insert(`k${i}`, i)]));
    await Promise.all([w.close(), w.close()]);
    await Promise.all(pushed);
    expect(rows()).toHaveLength(50);
    await expect(w.push([insert("late")])).rejects.toThrow(/test writer for ".*" is closed/);
    await w.close();
  });

  it("keeps the process alive only while commits are pending, not when idle", () => {
    const child = fileURLToPath(new URL("./writer-exit-process.ts", import.meta.url));
    const run = spawnSync(process.execPath, ["--import", "tsx", child, file], { timeout: 20_000, encoding: "utf8" });
    expect(run.error).toBeUndefined();
    expect(run.status).toBe(0);
    expect(rows()).toEqual([{ k: "from-child", v: 1 }]);
  });

  it("flush resolves once everything pushed so far is committed or failed", async () => {
    const w = await open();
    const ok = w.push([insert("a")]);
    const failed = w.push([insert("a")]).catch((e: unknown) => e);
    await w.flush();
    expect(w.depth).toBe(0);
    expect(rows().map((r) => r.k)).toEqual([]); // same turn, same batch: both rolled back
    await expect(ok).rejects.toThrow(/UNIQUE/);
    expect(await failed).toBeInstanceOf(Error);
  });

  it("rejects an unknown statement name without queueing anything", async () => {
    const w = await open();
    await expect(w.push([insert("a"), ["nope", 1]])).rejects.toThrow(/no statement "nope"/);
    expect(w.depth).toBe(0);
    await w.flush();
    expect(rows()).toEqual([]);
  });

  it("fails to open with an error naming the file, or the statement that does not prepare", async () => {
    await expect(
      SqliteWriter.open({ file: join(dir, "missing", "x.db"), synchronous: "FULL", statements: STATEMENTS }),
    ).rejects.toThrow(/cannot open ".*missing\/x\.db"/);
    await expect(
      SqliteWriter.open({
        file,
        synchronous: "FULL",
        statements: { ...STATEMENTS, broken: "INSERT INTO nowhere VALUES (?)" },
      }),
    ).rejects.toMatchObject({
      statement: "broken",
      message: expect.stringMatching(/statement "broken".*no such table: nowhere/),
    });
  });
});
