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
import { ProfileCache } from "./profile-cache.js";
import { ProfileDraft } from "./profile-draft.js";
import { type QueuedBatch, SqliteWriteBatch } from "./sqlite-write-batch.js";

export interface SqliteStateOptions {
  /** Database file; `:memory:` for a throwaway database. */
  file: string;
  /** `synchronous=FULL`: also survives power loss, at a large cost in write speed. Default false (`NORMAL`). */
  strict?: boolean;
  /** How often (in decision time) expired rows are pruned. Default 60 s. */
  pruneEveryMs?: number;
  /** Profiles not written for this long are pruned, like the Redis adapter's sliding TTL. Default 180 days. */
  profileRetentionMs?: number;
  /** Parsed profiles kept in memory between reads and writes. Default 10,000; 0 turns the cache off. */
  profileCacheSize?: number;
  /** A batch is committed at once, before the event-loop turn ends, when this many updates and reads wait. Default 2,048. */
  maxBatchItems?: number;
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
  private readonly batchTx: Database.Transaction<(batch: QueuedBatch) => StateSnapshot[]>;
  private readonly batch: SqliteWriteBatch;
  private readonly cache: ProfileCache;
  /** `PRAGMA data_version` when the cache was last known right; it changes when another connection commits. */
  private seenDataVersion = -1;

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
    this.cache = new ProfileCache(options.profileCacheSize ?? 10_000);
    this.batchTx = this.db.transaction((batch: QueuedBatch) => {
      this.checkDataVersion();
      const snapshots = batch.reads.map((r) => this.readRows(r.query, r.now));
      this.writeBatch(batch.writes);
      return snapshots;
    });
    this.batch = new SqliteWriteBatch((batch) => this.commitBatch(batch), {
      ...(options.maxBatchItems !== undefined ? { maxItems: options.maxBatchItems } : {}),
    });
  }

  /** Joins the next group commit (see `write`); a claim it wins is committed before it resolves. */
  async read(query: StateQuery, now: number): Promise<StateSnapshot> {
    this.assertOpen();
    return this.batch.read(query, now);
  }

  /** Synchronous read in its own transaction, after any calls still queued. */
  readSync(query: StateQuery, now: number): StateSnapshot {
    this.assertOpen();
    this.batch.flush();
    const [snapshot] = this.commitBatch({ reads: [{ query, now }], writes: [] });
    if (!snapshot) throw new Error("state read returned no snapshot");
    return snapshot;
  }

  /**
   * Queues the updates for the next group commit (once per event-loop turn, or sooner when many
   * wait) and resolves when their batch has committed: from then on they are as durable as any
   * commit. A failed batch rejects every write in it and applies none of them.
   */
  async write(updates: readonly StateUpdate[], now: number): Promise<void> {
    this.assertOpen();
    return this.batch.write(updates, now);
  }

  /** Synchronous write in its own immediate transaction, after any writes still queued. */
  writeSync(updates: readonly StateUpdate[], now: number): void {
    this.assertOpen();
    this.batch.flush();
    this.commitBatch({ reads: [], writes: [{ updates, now }] });
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
    this.batch.flush();
    this.db.transaction(() => this.pruneRows(now)).immediate();
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
    // Queued writes are committed (or rejected) before the connection goes.
    this.batch.flush();
    this.closed = true;
    this.cache.clear();
    this.db.close();
  }

  /** Profiles held parsed in memory, for diagnostics and tests. */
  cachedProfiles(): number {
    return this.cache.size;
  }

  /**
   * Serves a batch in one transaction: reads first, then writes in order. A batch that claims or
   * writes takes the write lock up front (`BEGIN IMMEDIATE`), so two processes cannot both win a
   * claim. On failure nothing is applied and the cache is dropped.
   */
  private commitBatch(batch: QueuedBatch): StateSnapshot[] {
    const writes = batch.writes.some(
      (w) => w.updates.length > 0 || Math.abs(w.now - this.lastPruneAt) >= this.pruneEveryMs,
    );
    const claims = batch.reads.some((r) => r.query.claims.length > 0);
    if (!writes && batch.reads.length === 0) return [];
    const lastPruneAt = this.lastPruneAt;
    try {
      return writes || claims ? this.batchTx.immediate(batch) : this.batchTx(batch);
    } catch (err) {
      // Profiles drafted in the failed transaction may already be in the cache.
      this.cache.clear();
      this.lastPruneAt = lastPruneAt;
      throw err;
    }
  }

  /** Drops the cache when another connection (another process) has committed since we last looked. */
  private checkDataVersion(): void {
    const version = this.stmt.dataVersion.get() as number;
    if (version !== this.seenDataVersion) {
      this.cache.clear();
      this.seenDataVersion = version;
    }
  }

  private pruneRows(now: number): void {
    this.lastPruneAt = now;
    this.stmt.pruneCounters.run(now);
    this.stmt.pruneDistinct.run(now);
    this.stmt.pruneClaims.run(now);
    this.stmt.prunePending.run(now);
    // Pruned profiles must read as empty again; a prune that removed none keeps the cache.
    if (this.stmt.pruneProfiles.run(now - this.profileRetentionMs).changes > 0) this.cache.clear();
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

  /**
   * Applies a batch in arrival order, as if each write ran alone: each touched profile is drafted
   * once and stored once (at the end, or before a prune), and a prune falls where it would have run.
   */
  private writeBatch(batch: QueuedBatch["writes"]): void {
    let drafts = new Map<string, ProfileDraft>();
    for (const { updates, now } of batch) {
      for (const u of updates) {
        switch (u.op) {
          case "see":
          case "set": {
            let d = drafts.get(u.profile);
            if (!d) {
              d = new ProfileDraft(this.loadProfile(u.profile) ?? emptyProfile(), now);
              drafts.set(u.profile, d);
            }
            d.touchedAt = now;
            d.apply(u);
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
      if (Math.abs(now - this.lastPruneAt) >= this.pruneEveryMs) {
        this.storeDrafts(drafts);
        drafts = new Map();
        this.pruneRows(now);
      }
    }
    this.storeDrafts(drafts);
  }

  /** Serialises each drafted profile once and makes it the cached version (dropped again if the transaction fails). */
  private storeDrafts(drafts: ReadonlyMap<string, ProfileDraft>): void {
    for (const [key, d] of drafts) {
      this.stmt.putProfile.run(key, JSON.stringify(d.profile), d.touchedAt);
      this.cache.set(key, d.profile);
    }
  }

  /** The committed profile, from the cache or parsed from its row (and then cached); must run inside a transaction. */
  private loadProfile(key: string): Profile | undefined {
    const cached = this.cache.get(key);
    if (cached) return cached;
    const row = this.stmt.getProfile.get(key) as { doc: string } | undefined;
    if (!row) return undefined;
    const p = JSON.parse(row.doc) as Profile;
    this.cache.set(key, p);
    return p;
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
    dataVersion: db.prepare("PRAGMA data_version").pluck(),
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
