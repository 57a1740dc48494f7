/** Schema version 1 (one JSON document per profile) → version 2 (one row per learned value), on open. */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { SqliteStateStore } from "../../src/state/sqlite.js";

const T0 = 1_700_000_000_000;
const dir = mkdtempSync(join(tmpdir(), "signalbox-state-migration-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The version 1 DDL, as the previous release created it. */
const SCHEMA_V1 = `
CREATE TABLE IF NOT EXISTS profiles (key TEXT PRIMARY KEY, doc TEXT NOT NULL, touched_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS profiles_touched ON profiles (touched_at);
CREATE TABLE IF NOT EXISTS counters (
  key TEXT NOT NULL, bucket INTEGER NOT NULL, count REAL NOT NULL, expires_at INTEGER NOT NULL,
  PRIMARY KEY (key, bucket)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS counters_expiry ON counters (expires_at);
CREATE TABLE IF NOT EXISTS distinct_members (
  key TEXT NOT NULL, bucket INTEGER NOT NULL, member TEXT NOT NULL, expires_at INTEGER NOT NULL,
  PRIMARY KEY (key, bucket, member)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS distinct_expiry ON distinct_members (expires_at);
CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS claims_expiry ON claims (expires_at);
CREATE TABLE IF NOT EXISTS pending (id TEXT PRIMARY KEY, record TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS pending_expiry ON pending (expires_at);
`;

function writeV1(file: string): void {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.exec(SCHEMA_V1);
  db.pragma("user_version = 1");
  const put = db.prepare("INSERT INTO profiles (key, doc, touched_at) VALUES (?, ?, ?)");
  put.run(
    "user:alice",
    JSON.stringify({
      sets: {
        devices: { d1: { n: 3, first: T0, last: T0 + 9 }, d2: { n: 1, first: T0 + 5, last: T0 + 5 } },
        countries: { FR: { n: 2, first: T0, last: T0 + 1 } },
      },
      values: { last_location: { lat: 48.8, lon: 2.3 }, rate_ewma: 0.5 },
    }),
    T0 + 9,
  );
  put.run(
    "global:login",
    JSON.stringify({ sets: { hours: { "17": { n: 40, first: T0, last: T0 + 2 } } }, values: {} }),
    T0 + 2,
  );
  // a 60 s window: 6 s buckets, expiring 11 buckets after their own
  const bucket = Math.floor(T0 / 6_000);
  db.prepare("INSERT INTO counters VALUES ('user:alice:fails', ?, 2, ?)").run(bucket, (bucket + 11) * 6_000);
  db.prepare("INSERT INTO claims VALUES ('token:1', '{\"d\":\"d1\"}', ?)").run(T0 + 60_000);
  db.close();
}

describe("sqlite state schema migration", () => {
  it("converts a version 1 file's documents to rows in one step, keeping everything it knew", async () => {
    const file = join(dir, "v1.db");
    writeV1(file);
    const store = await SqliteStateStore.open({ file });
    expect(store.loadedRows()).toMatchObject({
      profiles: 2,
      learnedValues: 4,
      scalars: 2,
      counterBuckets: 1,
      claims: 1,
    });
    const snap = await store.read(
      {
        profiles: ["user:alice", "global:login"],
        counters: [{ key: "user:alice:fails", windowMs: 60_000 }],
        claims: [{ key: "token:1", holder: { d: "d2" }, ttlMs: 60_000 }],
      },
      T0 + 10,
    );
    expect(snap.profiles.get("user:alice")).toEqual({
      sets: {
        devices: { d1: { n: 3, first: T0, last: T0 + 9 }, d2: { n: 1, first: T0 + 5, last: T0 + 5 } },
        countries: { FR: { n: 2, first: T0, last: T0 + 1 } },
      },
      values: { last_location: { lat: 48.8, lon: 2.3 }, rate_ewma: 0.5 },
    });
    expect(snap.profiles.get("global:login")?.sets.hours?.["17"]).toEqual({ n: 40, first: T0, last: T0 + 2 });
    expect(snap.counters.get("user:alice:fails")).toEqual({ count: 2, distinct: 0 });
    expect(snap.claims.get("token:1")).toEqual({ first: { d: "d1" }, won: false });
    await store.close();

    const db = new Database(file, { readonly: true });
    expect(db.pragma("user_version", { simple: true })).toBe(2);
    const columns = (db.prepare("PRAGMA table_info(profiles)").all() as { name: string }[]).map((c) => c.name);
    expect(columns).toEqual(["key", "touched_at"]);
    expect(db.prepare("SELECT key, touched_at FROM profiles ORDER BY key").all()).toEqual([
      { key: "global:login", touched_at: T0 + 2 },
      { key: "user:alice", touched_at: T0 + 9 },
    ]);
    expect(db.prepare("SELECT COUNT(*) FROM profile_sets").pluck().get()).toBe(4);
    expect(db.prepare("SELECT json FROM profile_values WHERE field = 'rate_ewma'").pluck().get()).toBe("0.5");
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'profiles_v1'").get()).toBeUndefined();
    db.close();
  });

  it("leaves a version 1 file untouched when a document cannot be converted", async () => {
    const file = join(dir, "v1-bad.db");
    writeV1(file);
    const db = new Database(file);
    db.prepare("INSERT INTO profiles (key, doc, touched_at) VALUES ('user:broken', '{not json', 1)").run();
    db.close();
    await expect(SqliteStateStore.open({ file })).rejects.toThrow();
    const after = new Database(file, { readonly: true });
    expect(after.pragma("user_version", { simple: true })).toBe(1);
    expect(after.prepare("SELECT COUNT(*) FROM profiles").pluck().get()).toBe(3);
    after.close();
  });
});
