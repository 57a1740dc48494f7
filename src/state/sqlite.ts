/**
 * The SQLite state adapter, the embedded default: the whole state lives in this process's memory
 * (a `MemoryStateStore`, authoritative for every read), and a SQLite file is its durable mirror,
 * written row by row on a writer thread. One process owns the file (`sqlite-lock.ts`); state shared
 * between processes belongs in Redis.
 *
 * Durability argument. `write` applies to memory at once and resolves when the batch holding its
 * rows has committed. A claim won in `read` is journalled into the same stream of batches, which
 * commit strictly in order; the engine answers a decision only after that decision's `write`
 * resolves, and its write is in the same batch as its claim or a later one. So every claim, learned
 * value, counter and pending decision a client was answered for is on disk (to the `synchronous`
 * level chosen) before the answer leaves. A crash loses only work no client was answered for.
 */

import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import { SignalboxError } from "../errors/signalbox-error.js";
import { InlineSqliteWriter } from "../storage/inline-sqlite-writer.js";
import { type BatchWriter, SqliteWriter } from "../storage/sqlite-writer.js";
import { MemoryStateStore } from "./memory.js";
import type { PendingDecision, StateQuery, StateSnapshot, StateStore, StateUpdate } from "./port.js";
import { ExpiryIndex } from "./sqlite-expiry.js";
import { type LoadedRows, loadState } from "./sqlite-load.js";
import { lockStateFile } from "./sqlite-lock.js";
import { SqliteMirror } from "./sqlite-mirror.js";
import { migrate, STATEMENTS } from "./sqlite-schema.js";

/** Rows (after coalescing) at which the current batch goes to the writer before the turn ends. */
const CHUNK_ROWS = 256;

export interface SqliteStateOptions {
  /** Database file; `:memory:` for a throwaway database (its rows are then written on the main thread). */
  file: string;
  /** `synchronous=FULL`: also survives power loss, at a large cost in write speed. Default false (`NORMAL`). */
  strict?: boolean;
  /** How often (in decision time) expired entries are pruned. Default 60 s. */
  pruneEveryMs?: number;
  /** Profiles not written for this long are pruned, like the Redis adapter's sliding TTL. Default 180 days. */
  profileRetentionMs?: number;
  /** Most profiles held; the least recently used are dropped (from memory and file) beyond it. Default 1,000,000. */
  maxProfiles?: number;
  /** Most counters, claims and pending decisions held, each. Default 1,000,000. */
  maxEntries?: number;
  /**
   * How long the file's lock stays in force, for a process in another container or host, when this
   * process stops renewing it (`sqlite-lock.ts`). Default 30 s.
   */
  leaseMs?: number;
}

const DAY_MS = 86_400_000;

interface Deferred {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export class SqliteStateStore implements StateStore {
  readonly kind = "sqlite";
  readonly synchronous = true;
  private readonly pruneEveryMs: number;
  private lastPruneAt = Number.NEGATIVE_INFINITY;
  private batch: Deferred | undefined;
  /** The last batch handed to the writer; an empty batch waits for it, so order holds. */
  private lastCommit: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly db: Database.Database,
    private readonly memory: MemoryStateStore,
    private readonly mirror: SqliteMirror,
    private readonly expiry: ExpiryIndex,
    private readonly writer: BatchWriter,
    private readonly loaded: LoadedRows,
    private readonly release: () => void,
    pruneEveryMs: number,
  ) {
    this.pruneEveryMs = pruneEveryMs;
  }

  /**
   * Takes the file's lock, migrates it to the current schema, loads every row into memory, then
   * starts the writer thread on the same file. Fails with `STATE_UNAVAILABLE` when another process
   * owns the file, `CONFIG_INVALID` when it cannot be opened or is from a newer release.
   */
  static async open(options: SqliteStateOptions): Promise<SqliteStateStore> {
    const inMemory = options.file === ":memory:";
    const file = inMemory ? options.file : resolve(options.file);
    if (!inMemory) mkdirSync(dirname(file), { recursive: true });
    const lock = inMemory
      ? undefined
      : lockStateFile(file, options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {});
    const release = lock ?? (() => {});
    let db: Database.Database | undefined;
    let writer: BatchWriter | undefined;
    try {
      try {
        db = new Database(file);
      } catch (err) {
        throw new SignalboxError("CONFIG_INVALID", `cannot open state database '${file}'`, { cause: err });
      }
      db.pragma("journal_mode = WAL");
      db.pragma(`synchronous = ${options.strict ? "FULL" : "NORMAL"}`);
      migrate(db, file);
      const pruneEveryMs = options.pruneEveryMs ?? 60_000;
      const retention = options.profileRetentionMs ?? 180 * DAY_MS;
      const expiry = new ExpiryIndex(Math.max(1, pruneEveryMs));
      const mirror = new SqliteMirror(expiry, retention);
      const memory = new MemoryStateStore({
        journal: mirror,
        ...(options.maxProfiles !== undefined ? { maxProfiles: options.maxProfiles } : {}),
        ...(options.maxEntries !== undefined ? { maxEntries: options.maxEntries } : {}),
      });
      const loaded = loadState(db, memory, expiry, retention);
      // The load is one synchronous pass, so the lock went unrenewed meanwhile: a load longer than
      // the lease may have let a process in another container take the file over.
      if (lock && !lock.owned()) {
        throw new SignalboxError(
          "STATE_UNAVAILABLE",
          `state database '${file}' was taken over by another process while it was being loaded; stop the other process`,
        );
      }
      writer = inMemory
        ? new InlineSqliteWriter(db, STATEMENTS)
        : await openWriter(file, options.strict ? "FULL" : "NORMAL");
      const store = new SqliteStateStore(db, memory, mirror, expiry, writer, loaded, release, pruneEveryMs);
      // Rows the load dropped to honour the bounds are deleted in the first batch.
      if (mirror.dirty) store.schedule();
      return store;
    } catch (err) {
      await writer?.close().catch(() => {});
      db?.close();
      release();
      throw err;
    }
  }

  /** Answers from memory at once; a claim won here joins the current batch (see the file's comment). */
  async read(query: StateQuery, now: number): Promise<StateSnapshot> {
    this.assertOpen();
    const snapshot = this.memory.readSync(query, now);
    if (this.mirror.dirty) this.schedule();
    return snapshot;
  }

  /**
   * Applies the updates to memory at once (later reads see them), and resolves when the batch
   * holding their rows has committed; rejects when that batch fails (memory then holds changes the
   * file lacks: each row is written again, whole, the next time it changes).
   */
  write(updates: readonly StateUpdate[], now: number): Promise<void> {
    try {
      this.assertOpen();
    } catch (err) {
      return Promise.reject(err);
    }
    this.memory.writeSync(updates, now);
    if (Math.abs(now - this.lastPruneAt) >= this.pruneEveryMs) this.prune(now);
    const committed = this.schedule();
    // A busy turn is handed over in chunks: the writer commits the first decisions' rows while this
    // thread computes the rest, instead of every decision of the turn waiting for one big commit.
    if (this.mirror.size >= CHUNK_ROWS) this.commit();
    return committed;
  }

  async getPending(id: string, now: number): Promise<PendingDecision | undefined> {
    this.assertOpen();
    const record = await this.memory.getPending(id, now);
    if (this.mirror.dirty) this.schedule();
    return record;
  }

  /** Drops expired counters, claims and pending decisions and long-unwritten profiles, from memory and file. */
  prune(now: number): void {
    this.assertOpen();
    this.lastPruneAt = now;
    for (const [kind, key] of this.expiry.take(now)) {
      if (kind === "profile") this.memory.dropProfile(key);
      else this.memory.expire(kind, key, now);
    }
    this.mirror.pruneRows(now);
    this.schedule();
  }

  /** Resolves when everything written so far has committed (or failed). */
  async flush(): Promise<void> {
    if (this.batch) this.commit();
    await this.lastCommit.catch(() => {});
  }

  /** The durability settings in force, for diagnostics: `synchronous` 1 is NORMAL, 2 is FULL. */
  pragmas(): { journalMode: string; synchronous: number } {
    this.assertOpen();
    return {
      journalMode: String(this.db.pragma("journal_mode", { simple: true })),
      synchronous: Number(this.db.pragma("synchronous", { simple: true })),
    };
  }

  /** What the open loaded, and how long it took, for diagnostics. */
  loadedRows(): LoadedRows {
    return this.loaded;
  }

  /** Entries held in memory, for diagnostics and tests. */
  sizes(): { profiles: number; counters: number; claims: number; pending: number } {
    return this.memory.sizes();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Queued rows are committed (or rejected) before the file is closed.
    if (this.batch) this.commit();
    await this.lastCommit.catch(() => {});
    await this.writer.close().catch(() => {});
    await this.memory.close();
    this.db.close();
    this.release();
  }

  /** The current batch, created with its end-of-turn commit on first use. */
  private schedule(): Promise<void> {
    if (this.batch) return this.batch.promise;
    let resolveBatch!: () => void;
    let rejectBatch!: (err: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolveBatch = res;
      rejectBatch = rej;
    });
    // A batch only reads joined (a won claim) may have no one awaiting it.
    promise.catch(() => {});
    this.batch = { promise, resolve: resolveBatch, reject: rejectBatch };
    // setImmediate, not a microtask: every decision that reaches the store in this turn joins the batch.
    setImmediate(() => this.commit());
    return promise;
  }

  /** Hands the current batch's coalesced rows to the writer. */
  private commit(): void {
    const batch = this.batch;
    if (!batch) return;
    this.batch = undefined;
    const ops = this.mirror.drain();
    if (ops.length === 0) {
      // Nothing of its own to write: it is durable once everything before it is.
      this.lastCommit.then(batch.resolve, batch.resolve);
      return;
    }
    const committed = this.writer.push(ops).then(() => {});
    this.lastCommit = committed;
    committed.then(batch.resolve, (err: unknown) =>
      batch.reject(
        new SignalboxError(
          "STATE_UNAVAILABLE",
          `state write failed: ${err instanceof Error ? err.message : String(err)}`,
          {
            cause: err,
          },
        ),
      ),
    );
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("state store is closed");
  }
}

async function openWriter(file: string, synchronous: "NORMAL" | "FULL"): Promise<BatchWriter> {
  try {
    const writer = await SqliteWriter.open({ file, synchronous, statements: STATEMENTS, label: "state" });
    return {
      push: (ops) => {
        const committed = writer.push(ops);
        // Send now rather than on the writer's own next turn: this batch is already whole.
        void writer.flush();
        return committed;
      },
      flush: () => writer.flush(),
      close: () => writer.close(),
    };
  } catch (err) {
    throw new SignalboxError("STATE_UNAVAILABLE", `cannot start the state writer for '${file}'`, { cause: err });
  }
}
