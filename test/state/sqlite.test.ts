/** Runs the state conformance suite against the SQLite adapter, plus what only a file shows: restarts, loading, pruning, failures. */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/engine/clock.js";
import { createEngine } from "../../src/engine/create-engine.js";
import { loadPolicy } from "../../src/policy/load.js";
import type { StateStore } from "../../src/state/port.js";
import { SqliteStateStore } from "../../src/state/sqlite.js";
import { runStateConformance } from "./conformance.js";

const dir = mkdtempSync(join(tmpdir(), "signalbox-state-"));
let n = 0;
const nextFile = () => join(dir, "data", `state-${++n}.db`);
const files = new WeakMap<StateStore, string>();
const LIVE =
  "the SQLite adapter reads from its memory copy, like the memory adapter: a decision may see learning committed after its read";

async function openFile(file = nextFile()): Promise<SqliteStateStore> {
  const store = await SqliteStateStore.open({ file });
  files.set(store, file);
  return store;
}

// the directory is removed once, after the last describe below
runStateConformance("sqlite (file)", () => openFile(), undefined, {
  liveSnapshots: LIVE,
  restart: (closed) => openFile(files.get(closed)),
});

runStateConformance(
  "sqlite (:memory:, strict)",
  () => SqliteStateStore.open({ file: ":memory:", strict: true }),
  undefined,
  {
    liveSnapshots: LIVE,
  },
);

const T0 = 1_700_000_000_000;

/** Row counts of a state file, read through a connection of its own. */
function rows(file: string): Record<string, number> {
  const db = new Database(file, { readonly: true });
  const count = (table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  const out = {
    profiles: count("profiles"),
    sets: count("profile_sets"),
    values: count("profile_values"),
    counters: count("counters"),
    members: count("distinct_members"),
    claims: count("claims"),
    pending: count("pending"),
  };
  db.close();
  return out;
}

describe("sqlite state store", () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("runs in WAL mode, NORMAL by default and FULL when strict", async () => {
    const a = await SqliteStateStore.open({ file: nextFile() });
    const b = await SqliteStateStore.open({ file: nextFile(), strict: true });
    expect(a.pragmas()).toEqual({ journalMode: "wal", synchronous: 1 });
    expect(b.pragmas()).toEqual({ journalMode: "wal", synchronous: 2 });
    await a.close();
    await b.close();
  });

  it("has every resolved write in the file, one row per learned value", async () => {
    const file = nextFile();
    const store = await openFile(file);
    const writes = Array.from({ length: 20 }, (_, i) =>
      store.write(
        [
          { op: "see", profile: "global:login", field: "asns", value: `as${i % 5}`, at: T0 + i, cap: 100 },
          { op: "incr", counter: "c", at: T0, by: 1, windowMs: 60_000 },
        ],
        T0,
      ),
    );
    await Promise.all(writes);
    // a separate connection sees the committed rows while the store is still open
    expect(rows(file)).toMatchObject({ profiles: 1, sets: 5, counters: 1 });
    const db = new Database(file, { readonly: true });
    expect(db.prepare("SELECT n, first, last FROM profile_sets WHERE value = 'as0'").get()).toEqual({
      n: 4,
      first: T0,
      last: T0 + 15,
    });
    expect(db.prepare("SELECT count FROM counters").pluck().get()).toBe(20);
    db.close();
    await store.close();
  });

  it("loads every row at open, reports what it loaded, and honours the memory bounds", async () => {
    const file = nextFile();
    const first = await openFile(file);
    for (const [i, who] of ["user:a", "user:b", "user:c"].entries()) {
      await first.write([{ op: "see", profile: who, field: "devices", value: "d", at: T0 + i, cap: 5 }], T0 + i);
    }
    await first.write([{ op: "set", profile: "user:c", field: "x", value: [1, { y: "z" }] }], T0 + 3);
    await first.close();

    const all = await SqliteStateStore.open({ file });
    expect(all.loadedRows()).toMatchObject({ profiles: 3, learnedValues: 3, scalars: 1, counterBuckets: 0 });
    expect(all.loadedRows().ms).toBeGreaterThanOrEqual(0);
    await all.close();

    // two profiles fit: the least recently written (user:a) is dropped, from memory and from the file
    const bounded = await SqliteStateStore.open({ file, maxProfiles: 2 });
    expect(bounded.sizes().profiles).toBe(2);
    const snap = await bounded.read({ profiles: ["user:a", "user:c"], counters: [], claims: [] }, T0 + 4);
    expect(snap.profiles.get("user:a")).toEqual({ sets: {}, values: {} });
    expect(snap.profiles.get("user:c")?.values).toEqual({ x: [1, { y: "z" }] });
    await bounded.flush();
    expect(rows(file)).toMatchObject({ profiles: 2, sets: 2 });
    await bounded.close();
  });

  it("prunes expired entries periodically, by decision time, from memory and file", async () => {
    const file = nextFile();
    const store = await SqliteStateStore.open({ file, pruneEveryMs: 60_000, profileRetentionMs: 86_400_000 });
    // the first write prunes (nothing yet) and starts the period
    await store.write(
      [
        { op: "incr", counter: "c", at: T0, by: 1, windowMs: 10_000 },
        { op: "distinct", counter: "c", member: "m", at: T0, windowMs: 10_000 },
        { op: "see", profile: "user:old", field: "devices", value: "d", at: T0, cap: 5 },
        {
          op: "pending",
          id: "dec-1",
          record: { subject: "user:old", controlPath: "hold", at: T0, learn: [] },
          ttlMs: 20_000,
        },
      ],
      T0,
    );
    await store.read({ profiles: [], counters: [], claims: [{ key: "k", holder: { a: 1 }, ttlMs: 5_000 }] }, T0);
    await store.flush();
    expect(rows(file)).toMatchObject({ counters: 1, members: 1, claims: 1, pending: 1, profiles: 1 });
    expect(store.sizes()).toEqual({ profiles: 1, counters: 1, claims: 1, pending: 1 });
    // everything has expired by T0 + 30 s, but the period has not passed: rows stay, reads ignore them
    await store.write([{ op: "incr", counter: "c2", at: T0 + 30_000, by: 1, windowMs: 10_000 }], T0 + 30_000);
    expect(rows(file)).toMatchObject({ counters: 2, members: 1, claims: 1, pending: 1, profiles: 1 });
    expect(await store.getPending("dec-1", T0 + 30_000)).toBeUndefined();
    // two minutes later the next write prunes; the day-old profile is kept until its retention passes
    await store.write([{ op: "incr", counter: "c3", at: T0 + 120_000, by: 1, windowMs: 10_000 }], T0 + 120_000);
    expect(rows(file)).toMatchObject({ counters: 1, members: 0, claims: 0, pending: 0, profiles: 1 });
    expect(store.sizes()).toEqual({ profiles: 1, counters: 1, claims: 0, pending: 0 });
    await store.write([], T0 + 86_400_000 + 240_000);
    expect(rows(file)).toMatchObject({ profiles: 0, sets: 0 });
    expect(store.sizes().profiles).toBe(0);
    await store.close();
  });

  it("rejects a write whose batch fails in the writer, and the engine routes it as a state error", async () => {
    const file = nextFile();
    const store = await openFile(file);
    await store.write([{ op: "incr", counter: "c", at: T0, by: 1, windowMs: 60_000 }], T0);
    // the file refuses every new learned value from now on
    const db = new Database(file);
    db.exec("CREATE TRIGGER refuse BEFORE INSERT ON profile_sets BEGIN SELECT RAISE(ABORT, 'disk says no'); END;");
    db.close();
    await expect(
      store.write([{ op: "see", profile: "user:a", field: "devices", value: "d", at: T0, cap: 5 }], T0),
    ).rejects.toMatchObject({ code: "STATE_UNAVAILABLE", message: expect.stringMatching(/disk says no/) });
    // the rest of the file is untouched: the batch rolled back as a whole
    expect(rows(file)).toMatchObject({ counters: 1, sets: 0 });

    const stateErrors: string[] = [];
    const engine = createEngine({
      policy: await loadPolicy(),
      state: store,
      clock: new ManualClock(T0),
      observer: { onStateError: (kind, message) => stateErrors.push(`${kind}: ${message}`) },
    });
    const decision = await engine.decide({
      subject: { type: "user", id: "alice" },
      action: { name: "login" },
      resource: { type: "app", id: "portal" },
      context: { ip: "203.0.113.7", device: { id: "dev-1" } },
    });
    expect(decision.id).toBeDefined();
    expect(stateErrors.some((e) => /^error: .*disk says no/.test(e))).toBe(true);
    await engine.close();
  });

  it("refuses a database written by a newer schema", async () => {
    const file = nextFile();
    await (await openFile(file)).close();
    const db = new Database(file);
    db.pragma("user_version = 99");
    db.close();
    await expect(SqliteStateStore.open({ file })).rejects.toThrow(/schema version 99/);
    // and does not keep the file locked after refusing it
    const db2 = new Database(file);
    db2.pragma("user_version = 2");
    db2.close();
    await (await openFile(file)).close();
  });
});
