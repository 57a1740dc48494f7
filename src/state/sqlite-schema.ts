/**
 * The SQLite state schema (version 2: one row per learned value, no JSON documents for sets), its
 * migration from version 1 (one JSON document per profile), and the named statements the mirror
 * writes with.
 */

import type Database from "better-sqlite3";
import { SignalboxError } from "../errors/signalbox-error.js";
import { COUNTER_BUCKETS, type Profile } from "./port.js";

export const SCHEMA_VERSION = 2;

const TABLES_V2 = `
CREATE TABLE IF NOT EXISTS profiles (key TEXT PRIMARY KEY, touched_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS profiles_touched ON profiles (touched_at);
CREATE TABLE IF NOT EXISTS profile_sets (
  key TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL,
  n INTEGER NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL,
  PRIMARY KEY (key, field, value)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS profile_values (
  key TEXT NOT NULL, field TEXT NOT NULL, json TEXT NOT NULL,
  PRIMARY KEY (key, field)
) WITHOUT ROWID;
`;

const TABLES_SHARED = `
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

/**
 * Brings the database to version 2: creates a fresh one, or converts a version 1 file (profiles as
 * JSON documents) to rows in one transaction and then sets `user_version = 2`. A file from a newer
 * release is refused and not modified. Returns the version found.
 */
export function migrate(db: Database.Database, file: string): number {
  const version = Number(db.pragma("user_version", { simple: true }));
  if (version > SCHEMA_VERSION) {
    throw new SignalboxError(
      "CONFIG_INVALID",
      `state database '${file}' has schema version ${version}, newer than this release supports (${SCHEMA_VERSION})`,
    );
  }
  if (version === SCHEMA_VERSION) {
    db.exec(TABLES_V2 + TABLES_SHARED);
    return version;
  }
  db.transaction(() => {
    if (version === 1) migrateV1(db);
    db.exec(TABLES_V2 + TABLES_SHARED);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
  return version;
}

/** Version 1 → 2: every `profiles.doc` becomes rows of `profile_sets` and `profile_values`. */
function migrateV1(db: Database.Database): void {
  db.exec("ALTER TABLE profiles RENAME TO profiles_v1; DROP INDEX IF EXISTS profiles_touched;");
  db.exec(TABLES_V2);
  const putProfile = db.prepare("INSERT INTO profiles (key, touched_at) VALUES (?, ?)");
  const putSeen = db.prepare(STATEMENTS.putSeen);
  const putValue = db.prepare(STATEMENTS.putValue);
  // Pages by key: better-sqlite3 cannot write while a query of the same connection is open.
  const page = db.prepare("SELECT key, doc, touched_at FROM profiles_v1 WHERE key > ? ORDER BY key LIMIT 500");
  let after = "";
  for (;;) {
    const rows = page.all(after) as { key: string; doc: string; touched_at: number }[];
    if (rows.length === 0) break;
    for (const row of rows) {
      const doc = JSON.parse(row.doc) as Partial<Profile>;
      putProfile.run(row.key, row.touched_at);
      for (const [field, set] of Object.entries(doc.sets ?? {})) {
        for (const [value, s] of Object.entries(set)) putSeen.run(row.key, field, value, s.n, s.first, s.last);
      }
      for (const [field, value] of Object.entries(doc.values ?? {})) {
        putValue.run(row.key, field, JSON.stringify(value));
      }
      after = row.key;
    }
  }
  db.exec("DROP TABLE profiles_v1");
}

/** The first time at which a bucket no longer falls inside its window (see `oldestBucket`). */
export function bucketExpiry(bucket: number, windowMs: number): number {
  return (bucket + COUNTER_BUCKETS + 1) * bucketMsOf(windowMs);
}

/** The window a stored bucket row belongs to, recovered from its expiry (the inverse of `bucketExpiry`). */
export function windowOfRow(bucket: number, expiresAt: number): number {
  return (expiresAt / (bucket + COUNTER_BUCKETS + 1)) * COUNTER_BUCKETS;
}

function bucketMsOf(windowMs: number): number {
  return Math.max(1, Math.floor(windowMs / COUNTER_BUCKETS));
}

/** The statements the mirror writes with, by name (the writer thread prepares them once). */
export const STATEMENTS = {
  touchProfile:
    "INSERT INTO profiles (key, touched_at) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET touched_at = excluded.touched_at",
  putSeen:
    "INSERT INTO profile_sets (key, field, value, n, first, last) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key, field, value) DO UPDATE SET n = excluded.n, first = excluded.first, last = excluded.last",
  deleteSeen: "DELETE FROM profile_sets WHERE key = ? AND field = ? AND value = ?",
  putValue:
    "INSERT INTO profile_values (key, field, json) VALUES (?, ?, ?) ON CONFLICT (key, field) DO UPDATE SET json = excluded.json",
  dropProfileSets: "DELETE FROM profile_sets WHERE key = ?",
  dropProfileValues: "DELETE FROM profile_values WHERE key = ?",
  dropProfile: "DELETE FROM profiles WHERE key = ?",
  putCount:
    "INSERT INTO counters (key, bucket, count, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (key, bucket) DO UPDATE SET count = excluded.count, expires_at = excluded.expires_at",
  addMember: "INSERT OR IGNORE INTO distinct_members (key, bucket, member, expires_at) VALUES (?, ?, ?, ?)",
  dropCounter: "DELETE FROM counters WHERE key = ?",
  dropMembers: "DELETE FROM distinct_members WHERE key = ?",
  putClaim:
    "INSERT INTO claims (key, holder, expires_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at",
  dropClaim: "DELETE FROM claims WHERE key = ?",
  putPending:
    "INSERT INTO pending (id, record, expires_at) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET record = excluded.record, expires_at = excluded.expires_at",
  dropPending: "DELETE FROM pending WHERE id = ?",
  pruneCounters: "DELETE FROM counters WHERE expires_at <= ?",
  pruneMembers: "DELETE FROM distinct_members WHERE expires_at <= ?",
  pruneClaims: "DELETE FROM claims WHERE expires_at <= ?",
  prunePending: "DELETE FROM pending WHERE expires_at <= ?",
} as const;

export type StatementName = keyof typeof STATEMENTS;
