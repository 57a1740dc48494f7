/** The SQLite state adapter: the embedded default, one file under the data directory, durable across restarts. */

import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { SignalboxError } from "../errors/signalbox-error.js";
import type { JsonObject } from "../model/request.js";
import {
  bucketOf,
  type ClaimRead,
  type ClaimSpec,
  COUNTER_BUCKETS,
  type CounterRead,
  emptyProfile,
  oldestBucket,
  type PendingDecision,
  type Profile,
  type StateQuery,
  type StateSnapshot,
  type StateStore,
  type StateUpdate,
} from "./port.js";
import { applyToProfile } from "./profile-ops.js";

export interface SqliteStateOptions {
  /** Database file; `:memory:` for a throwaway database. */
  file: string;
  /** `synchronous=FULL`: also survives power loss, at a large cost in write speed. Default false (`NORMAL`). */
  strict?: boolean;
  /** How often (in decision time) expired rows are pruned. Default 60 s. */
  pruneEveryMs?: number;
  /** Profiles not written for this long are pruned, like the Redis adapter's sliding TTL. Default 180 days. */
  profileRetentionMs?: number;
}

const DAY_MS = 86_400_000;

const SCHEMA = `
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

const SCHEMA_VERSION = 1;

export class SqliteStateStore implements StateStore {
  readonly kind = "sqlite";
  readonly synchronous = true;
  private readonly db: Database.Database;
  private readonly pruneEveryMs: number;
  private readonly profileRetentionMs: number;
  private lastPruneAt = Number.NEGATIVE_INFINITY;
  private closed = false;
  private readonly stmt: ReturnType<typeof prepare>;
  private readonly readTx: Database.Transaction<(query: StateQuery, now: number) => StateSnapshot>;
  private readonly writeTx: Database.Transaction<(updates: readonly StateUpdate[], now: number) => void>;

  constructor(options: SqliteStateOptions) {
    if (options.file !== ":memory:") mkdirSync(dirname(options.file), { recursive: true });
    try {
      this.db = new Database(options.file);
    } catch (err) {
      throw new SignalboxError("CONFIG_INVALID", `cannot open state database '${options.file}'`, { cause: err });
    }
    this.db.pragma("journal_mode = WAL");
    this.db.pragma(`synchronous = ${options.strict ? "FULL" : "NORMAL"}`);
    const version = this.db.pragma("user_version", { simple: true });
    if (typeof version === "number" && version > SCHEMA_VERSION) {
      this.db.close();
      throw new SignalboxError(
        "CONFIG_INVALID",
        `state database '${options.file}' has schema version ${version}, newer than this release supports (${SCHEMA_VERSION})`,
      );
    }
    this.db.exec(SCHEMA);
    this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    this.pruneEveryMs = options.pruneEveryMs ?? 60_000;
    this.profileRetentionMs = options.profileRetentionMs ?? 180 * DAY_MS;
    this.stmt = prepare(this.db);
    this.readTx = this.db.transaction((query: StateQuery, now: number) => this.readRows(query, now));
    this.writeTx = this.db.transaction((updates: readonly StateUpdate[], now: number) => this.writeRows(updates, now));
  }

  async read(query: StateQuery, now: number): Promise<StateSnapshot> {
    return this.readSync(query, now);
  }

  /** Synchronous read; a read that claims takes the write lock up front so two processes cannot both win. */
  readSync(query: StateQuery, now: number): StateSnapshot {
    this.assertOpen();
    return query.claims.length > 0 ? this.readTx.immediate(query, now) : this.readTx(query, now);
  }

  async write(updates: readonly StateUpdate[], now: number): Promise<void> {
    this.writeSync(updates, now);
  }

  /** Synchronous write of every update in one immediate transaction. */
  writeSync(updates: readonly StateUpdate[], now: number): void {
    this.assertOpen();
    if (updates.length > 0) this.writeTx.immediate(updates, now);
    if (Math.abs(now - this.lastPruneAt) >= this.pruneEveryMs) this.prune(now);
  }

  async getPending(id: string, now: number): Promise<PendingDecision | undefined> {
    return this.getPendingSync(id, now);
  }

  getPendingSync(id: string, now: number): PendingDecision | undefined {
    this.assertOpen();
    const row = this.stmt.getPending.get(id, now) as { record: string } | undefined;
    return row ? (JSON.parse(row.record) as PendingDecision) : undefined;
  }

  /** Deletes expired counters, members, claims, pending decisions and long-unwritten profiles. */
  prune(now: number): void {
    this.assertOpen();
    this.lastPruneAt = now;
    this.db
      .transaction(() => {
        this.stmt.pruneCounters.run(now);
        this.stmt.pruneDistinct.run(now);
        this.stmt.pruneClaims.run(now);
        this.stmt.prunePending.run(now);
        this.stmt.pruneProfiles.run(now - this.profileRetentionMs);
      })
      .immediate();
  }

  /** The durability settings in force, for diagnostics: `synchronous` 1 is NORMAL, 2 is FULL. */
  pragmas(): { journalMode: string; synchronous: number } {
    this.assertOpen();
    return {
      journalMode: String(this.db.pragma("journal_mode", { simple: true })),
      synchronous: Number(this.db.pragma("synchronous", { simple: true })),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private readRows(query: StateQuery, now: number): StateSnapshot {
    const profiles = new Map<string, Profile>();
    for (const key of query.profiles) profiles.set(key, this.loadProfile(key) ?? emptyProfile());
    const counters = new Map<string, CounterRead>();
    for (const spec of query.counters) {
      const from = oldestBucket(now, spec.windowMs);
      const to = bucketOf(now, spec.windowMs);
      const sum = this.stmt.sumCounter.get(spec.key, from, to) as { total: number | null };
      const distinct = this.stmt.countDistinct.get(spec.key, from, to) as { n: number };
      counters.set(spec.key, { count: sum.total ?? 0, distinct: distinct.n });
    }
    const claims = new Map<string, ClaimRead>();
    for (const spec of query.claims) claims.set(spec.key, this.claim(spec, now));
    return { profiles, counters, claims };
  }

  private claim(spec: ClaimSpec, now: number): ClaimRead {
    const row = this.stmt.getClaim.get(spec.key) as { holder: string; expires_at: number } | undefined;
    if (row && row.expires_at > now) return { first: JSON.parse(row.holder) as JsonObject, won: false };
    this.stmt.putClaim.run(spec.key, JSON.stringify(spec.holder), now + spec.ttlMs);
    return { first: spec.holder, won: true };
  }

  private writeRows(updates: readonly StateUpdate[], now: number): void {
    // Profiles are read-modify-written once per write: load each on first touch, store each at the end.
    const touched = new Map<string, Profile>();
    for (const u of updates) {
      switch (u.op) {
        case "see":
        case "set": {
          let p = touched.get(u.profile);
          if (!p) {
            p = this.loadProfile(u.profile) ?? emptyProfile();
            touched.set(u.profile, p);
          }
          applyToProfile(p, u);
          break;
        }
        case "incr": {
          const b = bucketOf(u.at, u.windowMs);
          this.stmt.incr.run(u.counter, b, u.by, bucketExpiry(b, u.windowMs));
          break;
        }
        case "distinct": {
          const b = bucketOf(u.at, u.windowMs);
          this.stmt.addMember.run(u.counter, b, u.member, bucketExpiry(b, u.windowMs));
          break;
        }
        case "pending":
          this.stmt.putPending.run(u.id, JSON.stringify(u.record), u.record.at + u.ttlMs);
          break;
      }
    }
    for (const [key, p] of touched) this.stmt.putProfile.run(key, JSON.stringify(p), now);
  }

  private loadProfile(key: string): Profile | undefined {
    const row = this.stmt.getProfile.get(key) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as Profile) : undefined;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("state store is closed");
  }
}

/** The first time at which a bucket no longer falls inside its window (see `oldestBucket`). */
function bucketExpiry(bucket: number, windowMs: number): number {
  const bucketMs = Math.max(1, Math.floor(windowMs / COUNTER_BUCKETS));
  return (bucket + COUNTER_BUCKETS + 1) * bucketMs;
}

function prepare(db: Database.Database) {
  return {
    getProfile: db.prepare("SELECT doc FROM profiles WHERE key = ?"),
    putProfile: db.prepare(
      "INSERT INTO profiles (key, doc, touched_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET doc = excluded.doc, touched_at = excluded.touched_at",
    ),
    sumCounter: db.prepare("SELECT SUM(count) AS total FROM counters WHERE key = ? AND bucket BETWEEN ? AND ?"),
    countDistinct: db.prepare(
      "SELECT COUNT(DISTINCT member) AS n FROM distinct_members WHERE key = ? AND bucket BETWEEN ? AND ?",
    ),
    incr: db.prepare(
      "INSERT INTO counters (key, bucket, count, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (key, bucket) DO UPDATE SET count = count + excluded.count",
    ),
    addMember: db.prepare(
      "INSERT OR IGNORE INTO distinct_members (key, bucket, member, expires_at) VALUES (?, ?, ?, ?)",
    ),
    getClaim: db.prepare("SELECT holder, expires_at FROM claims WHERE key = ?"),
    putClaim: db.prepare(
      "INSERT INTO claims (key, holder, expires_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at",
    ),
    getPending: db.prepare("SELECT record FROM pending WHERE id = ? AND expires_at > ?"),
    putPending: db.prepare(
      "INSERT INTO pending (id, record, expires_at) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET record = excluded.record, expires_at = excluded.expires_at",
    ),
    pruneCounters: db.prepare("DELETE FROM counters WHERE expires_at <= ?"),
    pruneDistinct: db.prepare("DELETE FROM distinct_members WHERE expires_at <= ?"),
    pruneClaims: db.prepare("DELETE FROM claims WHERE expires_at <= ?"),
    prunePending: db.prepare("DELETE FROM pending WHERE expires_at <= ?"),
    pruneProfiles: db.prepare("DELETE FROM profiles WHERE touched_at < ?"),
  };
}
