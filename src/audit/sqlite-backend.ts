/**
 * The SQLite audit backend (better-sqlite3, WAL): the embedded default, `<dataDir>/audit.db`.
 * Appends to a file go through a writer thread (`src/storage/sqlite-writer.ts`), so the commit's cost
 * is paid off the main thread; with `buildChain`, the thread also masks, chains and hashes the
 * records (`chain-builder.ts`, ADR 0017). Reads, migrations, `meta` and `retain` use the main-thread
 * connection, which sees each commit as soon as the writer acknowledges it. `:memory:` cannot be
 * shared with a thread, so there every write (and the builder) runs on the main-thread connection.
 */

import { extname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { InlineSqliteWriter } from "../storage/inline-sqlite-writer.js";
import { type BatchWriter, BUILD, SqliteWriter, type SqlParam, type WriteOp } from "../storage/sqlite-writer.js";
import type { ChainHead } from "./chain.js";
import { CHAIN_STATEMENTS, type ChainBuilderOptions, createBuilder } from "./chain-builder.js";
import { decodeCursor, encodeCursor } from "./cursor.js";
import type { RetentionCut } from "./record.js";
import { anchorOfRow, cutsAfterRetention } from "./retention.js";
import {
  CREATE_MIGRATIONS_TABLE,
  DELETE_PREFIX,
  INSERT_CHECKPOINT,
  INSERT_META,
  INSERT_MIGRATION,
  insertRecords,
  MIGRATIONS,
  queryRecords,
  rowParams,
  SELECT_ANCHORS,
  SELECT_CHAIN_PAGE,
  SELECT_CHAIN_STARTS,
  SELECT_DECISION_ROWS,
  SELECT_HEAD,
  SELECT_META,
  SELECT_MIGRATION_VERSION,
  SELECT_RETENTION_PREFIX,
  SELECT_WRITER_ANCHORS,
  SELECT_WRITER_CHAIN_PAGE,
  SELECT_WRITERS,
} from "./sql.js";
import type {
  AppendOptions,
  AuditBackend,
  AuditFilter,
  AuditPage,
  ChainLink,
  StoredAnchor,
  StoredRow,
} from "./store.js";
import { recordOfRow } from "./stored-row.js";

export type Durability = "normal" | "strict";

export interface SqliteBackendOptions {
  /** File path, or `:memory:`. */
  readonly file: string;
  /** `normal`: WAL + synchronous=NORMAL; `strict`: WAL + synchronous=FULL. */
  readonly durability?: Durability;
}

const PAGE = 500;

/** The writer thread's statements. */
const WRITER_STATEMENTS = { [CHAIN_STATEMENTS.record]: insertRecords(1), [CHAIN_STATEMENTS.anchor]: INSERT_CHECKPOINT };

/** The chain builder's module, next to this one (`.ts` when running from source, `.js` when built). */
const CHAIN_BUILDER_MODULE = new URL(`./chain-builder${extname(fileURLToPath(import.meta.url))}`, import.meta.url).href;

/** The writer ops that store `rows` (and the signed checkpoints they carry). */
function appendOps(rows: readonly StoredRow[]): WriteOp[] {
  const ops: WriteOp[] = [];
  for (const r of rows) {
    ops.push([CHAIN_STATEMENTS.record, ...rowParams(r)]);
    const anchor = anchorOfRow(r);
    if (anchor) ops.push([CHAIN_STATEMENTS.anchor, anchor.writer_id, anchor.seq, anchor.jws]);
  }
  return ops;
}

/** The builder ops of `links` (see `chain-builder.ts`). */
function linkOps(links: readonly ChainLink[]): WriteOp[] {
  return links.map((link): WriteOp => {
    if ("decision" in link) return [BUILD, "decision", link.decision];
    if ("record" in link) return [BUILD, "record", link.record];
    if ("row" in link) return [BUILD, "row", ...(rowParams(link.row) as SqlParam[])];
    return [BUILD, "head", link.head.seq, link.head.hash];
  });
}

function migrate(db: Database.Database): void {
  db.exec(CREATE_MIGRATIONS_TABLE);
  db.transaction(() => {
    const current = (db.prepare(SELECT_MIGRATION_VERSION).get() as { version: number }).version;
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      for (const statement of m.statements) db.exec(statement);
      db.prepare(INSERT_MIGRATION).run(m.version, new Date().toISOString());
    }
  }).immediate();
}

export class SqliteAuditBackend implements AuditBackend {
  readonly kind = "sqlite";
  /** Appends commit in call order (writer thread, or synchronously for `:memory:`). */
  readonly pipelined = true;
  private readonly insertOne: Database.Statement;
  private readonly insertAnchor: Database.Statement;
  /** The writer (thread, or inline for `:memory:`), started by the first append or by `buildChain`. */
  private writer: Promise<BatchWriter> | undefined;
  private builds = false;

  private constructor(
    private readonly db: Database.Database,
    private readonly options: SqliteBackendOptions,
  ) {
    this.insertOne = this.db.prepare(insertRecords(1));
    this.insertAnchor = this.db.prepare(INSERT_CHECKPOINT);
  }

  /** Opens (and migrates) the store; its writer starts with the first append (readers never start one). */
  static async open(options: SqliteBackendOptions): Promise<SqliteAuditBackend> {
    const strict = options.durability === "strict";
    const db = new Database(options.file);
    try {
      db.pragma("journal_mode = WAL");
      db.pragma(`synchronous = ${strict ? "FULL" : "NORMAL"}`);
      db.pragma("busy_timeout = 5000");
      migrate(db);
      return new SqliteAuditBackend(db, options);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /**
   * Starts the writer with the chain builder of `options.writerId`: records are then masked, chained
   * and hashed on the writer thread (`appendLinks`). Plain `append`s keep working beside it.
   */
  async buildChain(options: ChainBuilderOptions): Promise<void> {
    if (this.writer) throw new Error("audit sqlite: the chain builder must be set before the first append");
    this.builds = true;
    this.writer = this.startWriter(options);
    await this.writer;
  }

  /** Commits `links` through the chain builder; resolves with the chain's head after them. */
  async appendLinks(links: readonly ChainLink[], options: AppendOptions = {}): Promise<ChainHead> {
    if (!this.builds) throw new Error("audit sqlite: appendLinks needs buildChain first");
    const writer = await (this.writer as Promise<BatchWriter>);
    // The trail's group commit has batched already: each call is a batch of its own, pipelined.
    return (await writer.push(linkOps(links), { ...options, alone: true })) as ChainHead;
  }

  private startWriter(builder?: ChainBuilderOptions): Promise<BatchWriter> {
    const file = this.options.file;
    if (file === ":memory:") {
      return Promise.resolve(
        new InlineSqliteWriter(this.db, WRITER_STATEMENTS, builder ? createBuilder(builder) : undefined),
      );
    }
    return SqliteWriter.open({
      file: resolve(file),
      synchronous: this.options.durability === "strict" ? "FULL" : "NORMAL",
      statements: WRITER_STATEMENTS,
      label: "audit",
      ...(builder ? { builder: { module: CHAIN_BUILDER_MODULE, options: builder } } : {}),
    });
  }

  private writerNow(): Promise<BatchWriter> {
    this.writer ??= this.startWriter();
    return this.writer;
  }

  private insertRow(row: StoredRow): void {
    this.insertOne.run(...rowParams(row));
    const anchor = anchorOfRow(row);
    if (anchor) this.insertAnchor.run(anchor.writer_id, anchor.seq, anchor.jws);
  }

  async meta(key: string, fallback: string): Promise<string> {
    this.db.prepare(INSERT_META).run(key, fallback);
    return (this.db.prepare(SELECT_META).get(key) as { value: string }).value;
  }

  async head(writer: string): Promise<ChainHead | undefined> {
    return this.db.prepare(SELECT_HEAD).get(writer) as ChainHead | undefined;
  }

  /** All `rows` in one transaction (shared with appends of the same event-loop turn) or none. */
  async append(rows: readonly StoredRow[], options: AppendOptions = {}): Promise<void> {
    await (await this.writerNow()).push(appendOps(rows), { ...options, alone: true });
  }

  async rowsForDecision(decisionId: string): Promise<StoredRow[]> {
    return this.db.prepare(SELECT_DECISION_ROWS).all(decisionId) as StoredRow[];
  }

  async query(filter: AuditFilter, cursor?: string, limit = 100): Promise<AuditPage> {
    const q = queryRecords(filter, decodeCursor(cursor), limit + 1);
    const rows = this.db.prepare(q.text).all(...q.params) as StoredRow[];
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      records: page.map(recordOfRow),
      ...(rows.length > limit && last ? { next: encodeCursor(last) } : {}),
    };
  }

  async *iterate(writer?: string): AsyncIterable<StoredRow> {
    let after: [string, number] = [writer ?? "", Number.MIN_SAFE_INTEGER];
    for (;;) {
      const rows = (
        writer === undefined
          ? this.db.prepare(SELECT_CHAIN_PAGE).all(after[0], after[1], PAGE)
          : this.db.prepare(SELECT_WRITER_CHAIN_PAGE).all(writer, after[1], PAGE)
      ) as StoredRow[];
      yield* rows;
      const last = rows.at(-1);
      if (!last || rows.length < PAGE) return;
      after = [last.writer_id, last.seq];
    }
  }

  async writers(): Promise<string[]> {
    return (this.db.prepare(SELECT_WRITERS).all() as { writer_id: string }[]).map((r) => r.writer_id);
  }

  async anchors(writer?: string): Promise<StoredAnchor[]> {
    return (
      writer === undefined ? this.db.prepare(SELECT_ANCHORS).all() : this.db.prepare(SELECT_WRITER_ANCHORS).all(writer)
    ) as StoredAnchor[];
  }

  async retain(beforeMs: number, build: (cuts: readonly RetentionCut[]) => StoredRow | undefined): Promise<number> {
    // Appends still on their way to the writer commit first; the transaction below then runs on this
    // thread without a turn boundary, so no writer batch lands in its middle.
    await (await this.writer)?.flush();
    return this.db
      .transaction(() => {
        const prefixes = this.db.prepare(SELECT_RETENTION_PREFIX).all(beforeMs) as {
          writer_id: string;
          seq: number;
          hash: string;
        }[];
        let deleted = 0;
        for (const p of prefixes) deleted += this.db.prepare(DELETE_PREFIX).run(p.writer_id, p.seq).changes;
        const starts = this.db.prepare(SELECT_CHAIN_STARTS).all() as RetentionCut[];
        const row = build(cutsAfterRetention(prefixes, starts));
        if (row) this.insertRow(row);
        return deleted;
      })
      .immediate();
  }

  /** Runs raw SQL; for tests that tamper with the trail as an attacker with file access would. */
  exec(text: string, params: readonly (string | number | null)[] = []): void {
    this.db.prepare(text).run(...params);
  }

  async close(): Promise<void> {
    // A writer that failed to start has nothing to close.
    const writer = await this.writer?.catch(() => undefined);
    await writer?.close();
    if (this.db.open) this.db.close();
  }
}
