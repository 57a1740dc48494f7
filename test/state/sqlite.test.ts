/** Runs the state conformance suite against the SQLite adapter, plus what only a file can show: restarts. */

import { fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { SqliteStateStore } from "../../src/state/sqlite.js";
import { runStateConformance } from "./conformance.js";

const dir = mkdtempSync(join(tmpdir(), "signalbox-state-"));
let n = 0;
const nextFile = () => join(dir, "data", `state-${++n}.db`);

// the directory is removed once, after the last describe below
runStateConformance("sqlite", async () => new SqliteStateStore({ file: nextFile() }));

runStateConformance("sqlite (strict)", async () => new SqliteStateStore({ file: ":memory:", strict: true }));

describe("sqlite state store", () => {
  const T0 = 1_700_000_000_000;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps everything it learned across a close and reopen of the same file", async () => {
    const file = nextFile();
    const first = new SqliteStateStore({ file });
    await first.write(
      [
        { op: "see", profile: "user:alice", field: "devices", value: "d1", at: T0, cap: 10 },
        { op: "set", profile: "user:alice", field: "last_location", value: { lat: 1.5, lon: -2 } },
        { op: "incr", counter: "user:alice:fails", at: T0, by: 2, windowMs: 60_000 },
        { op: "distinct", counter: "user:alice:fails", member: "10.0.0.1", at: T0, windowMs: 60_000 },
        {
          op: "pending",
          id: "dec-1",
          record: { subject: "user:alice", controlPath: "step_up", at: T0, learn: [] },
          ttlMs: 3_600_000,
        },
      ],
      T0,
    );
    await first.read(
      { profiles: [], counters: [], claims: [{ key: "token:1", holder: { d: "d1" }, ttlMs: 60_000 }] },
      T0,
    );
    await first.close();

    const second = new SqliteStateStore({ file });
    const snap = await second.read(
      {
        profiles: ["user:alice"],
        counters: [{ key: "user:alice:fails", windowMs: 60_000 }],
        claims: [{ key: "token:1", holder: { d: "d2" }, ttlMs: 60_000 }],
      },
      T0 + 1_000,
    );
    expect(snap.profiles.get("user:alice")).toEqual({
      sets: { devices: { d1: { n: 1, first: T0, last: T0 } } },
      values: { last_location: { lat: 1.5, lon: -2 } },
    });
    expect(snap.counters.get("user:alice:fails")).toEqual({ count: 2, distinct: 1 });
    expect(snap.claims.get("token:1")).toEqual({ first: { d: "d1" }, won: false });
    expect((await second.getPending("dec-1", T0 + 1_000))?.controlPath).toBe("step_up");
    await second.close();
  });

  it("runs in WAL mode, NORMAL by default and FULL when strict", async () => {
    const normal = nextFile();
    const strict = nextFile();
    const a = new SqliteStateStore({ file: normal });
    const b = new SqliteStateStore({ file: strict, strict: true });
    const pragmas = (s: SqliteStateStore) => s.pragmas();
    expect(pragmas(a)).toEqual({ journalMode: "wal", synchronous: 1 });
    expect(pragmas(b)).toEqual({ journalMode: "wal", synchronous: 2 });
    await a.close();
    await b.close();
  });

  it("prunes expired rows periodically, not on every write", async () => {
    const file = nextFile();
    const store = new SqliteStateStore({ file, pruneEveryMs: 60_000, profileRetentionMs: 86_400_000 });
    const rows = () => {
      const db = new Database(file, { readonly: true });
      const count = (table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
      const out = {
        counters: count("counters"),
        members: count("distinct_members"),
        claims: count("claims"),
        pending: count("pending"),
        profiles: count("profiles"),
      };
      db.close();
      return out;
    };
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
    expect(rows()).toEqual({ counters: 1, members: 1, claims: 1, pending: 1, profiles: 1 });
    // everything has expired by T0 + 30 s, but the period has not passed: rows stay, reads ignore them
    await store.write([{ op: "incr", counter: "c2", at: T0 + 30_000, by: 1, windowMs: 10_000 }], T0 + 30_000);
    expect(rows()).toEqual({ counters: 2, members: 1, claims: 1, pending: 1, profiles: 1 });
    expect(await store.getPending("dec-1", T0 + 30_000)).toBeUndefined();
    // a minute later the next write prunes; the day-old profile is kept until its retention passes
    await store.write([{ op: "incr", counter: "c3", at: T0 + 60_000, by: 1, windowMs: 10_000 }], T0 + 60_000);
    expect(rows()).toEqual({ counters: 1, members: 0, claims: 0, pending: 0, profiles: 1 });
    await store.write([], T0 + 86_400_000 + 120_000);
    expect(rows().profiles).toBe(0);
    await store.close();
  });

  it("lets only one of two connections to one file win a claim and loses no increment between them", async () => {
    const file = nextFile();
    const a = new SqliteStateStore({ file });
    const b = new SqliteStateStore({ file });
    const claim = (s: SqliteStateStore, who: string) =>
      s.readSync({ profiles: [], counters: [], claims: [{ key: "k", holder: { who }, ttlMs: 60_000 }] }, T0);
    expect(claim(a, "a").claims.get("k")?.won).toBe(true);
    expect(claim(b, "b").claims.get("k")).toEqual({ first: { who: "a" }, won: false });
    for (let i = 0; i < 50; i++) {
      a.writeSync([{ op: "see", profile: "user:x", field: "ips", value: `a${i}`, at: T0 + i, cap: 200 }], T0);
      b.writeSync([{ op: "see", profile: "user:x", field: "ips", value: `b${i}`, at: T0 + i, cap: 200 }], T0);
    }
    const p = a.readSync({ profiles: ["user:x"], counters: [], claims: [] }, T0).profiles.get("user:x");
    expect(Object.keys(p?.sets.ips ?? {})).toHaveLength(100);
    await a.close();
    await b.close();
  });

  it("keeps claims atomic and loses no update across four processes writing one file at once", async () => {
    const file = nextFile();
    new SqliteStateStore({ file }).close();
    const writer = new URL("./sqlite-writer-process.ts", import.meta.url);
    const runs = Array.from(
      { length: 4 },
      (_, i) =>
        new Promise<{ won: boolean }>((resolve, reject) => {
          const child = fork(writer, [JSON.stringify({ file, who: `w${i}`, increments: 150, at: T0 })], {
            execArgv: ["--import", "tsx"],
          });
          child.once("message", (m) => resolve(m as { won: boolean }));
          child.once("error", reject);
          child.once("exit", (code) => code !== 0 && reject(new Error(`writer process ${i} exited with ${code}`)));
        }),
    );
    const results = await Promise.all(runs);
    expect(results.filter((r) => r.won)).toHaveLength(1);
    const store = new SqliteStateStore({ file });
    const snap = store.readSync(
      { profiles: ["user:shared"], counters: [{ key: "c:shared", windowMs: 60_000 }], claims: [] },
      T0,
    );
    expect(snap.counters.get("c:shared")?.count).toBe(600);
    const seen = Object.values(snap.profiles.get("user:shared")?.sets.seen ?? {});
    expect(seen).toHaveLength(100);
    expect(seen.reduce((sum, s) => sum + s.n, 0)).toBe(600);
    await store.close();
  });

  it("refuses a database written by a newer schema", async () => {
    const file = nextFile();
    const s = new SqliteStateStore({ file });
    await s.close();
    const db = new Database(file);
    db.pragma("user_version = 99");
    db.close();
    expect(() => new SqliteStateStore({ file })).toThrow(/schema version 99/);
  });
});
