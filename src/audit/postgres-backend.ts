/** The PostgreSQL audit backend (`pg`): one database shared by many nodes, one chain per writer. */

import pg from "pg";
import { SignalboxError } from "../errors/signalbox-error.js";
import type { ChainHead } from "./chain.js";
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
  numberedPlaceholders,
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
import type { Durability } from "./sqlite-backend.js";
import type { AuditBackend, AuditFilter, AuditPage, StoredAnchor, StoredRow } from "./store.js";
import { recordOfRow } from "./stored-row.js";

export interface PostgresBackendOptions {
  readonly connectionString: string;
  /** Schema holding the tables (created when absent). Default `public`. */
  readonly schema?: string;
  /** `normal`: synchronous_commit=off; `strict`: synchronous_commit=on. */
  readonly durability?: Durability;
  readonly maxConnections?: number;
}

type Param = string | number | null;
type Queryable = Pick<pg.PoolClient, "query">;

const PAGE = 500;
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** pg returns BIGINT as strings; the row shape wants numbers. */
function toRow(r: Record<string, unknown>): StoredRow {
  return {
    ...(r as unknown as StoredRow),
    seq: Number(r.seq),
    event_ms: Number(r.event_ms),
    wall_ms: Number(r.wall_ms),
    shadow: Number(r.shadow),
  };
}

async function run(db: Queryable, text: string, params: readonly Param[] = []): Promise<Record<string, unknown>[]> {
  const result = await db.query(numberedPlaceholders(text), params as Param[]);
  return result.rows as Record<string, unknown>[];
}

export class PostgresAuditBackend implements AuditBackend {
  readonly kind = "postgresql";
  private readonly pool: pg.Pool;
  readonly schema: string;

  private constructor(pool: pg.Pool, schema: string) {
    this.pool = pool;
    this.schema = schema;
  }

  /** Connects, creates the schema when absent and applies pending migrations. */
  static async open(options: PostgresBackendOptions): Promise<PostgresAuditBackend> {
    const schema = options.schema ?? "public";
    if (!SCHEMA_NAME.test(schema)) {
      throw new SignalboxError("CONFIG_INVALID", `audit schema "${schema}" is not a plain SQL identifier`);
    }
    const sync = options.durability === "strict" ? "on" : "off";
    const pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.maxConnections ?? 4,
      options: `-c search_path=${schema} -c synchronous_commit=${sync}`,
    });
    pool.on("error", () => {
      // an idle client lost its connection; the next query reports the failure
    });
    const backend = new PostgresAuditBackend(pool, schema);
    try {
      await backend.migrate();
    } catch (err) {
      await pool.end();
      throw err;
    }
    return backend;
  }

  private async migrate(): Promise<void> {
    await this.transaction(async (db) => {
      await run(db, "SELECT pg_advisory_xact_lock(hashtext(?))", [`signalbox.audit.${this.schema}`]);
      await db.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
      await db.query(CREATE_MIGRATIONS_TABLE);
      const current = Number((await run(db, SELECT_MIGRATION_VERSION))[0]?.version ?? 0);
      for (const m of MIGRATIONS) {
        if (m.version <= current) continue;
        for (const statement of m.statements) await db.query(statement);
        await run(db, INSERT_MIGRATION, [m.version, new Date().toISOString()]);
      }
    });
  }

  private async transaction<T>(work: (db: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  private async insertRows(db: Queryable, rows: readonly StoredRow[]): Promise<void> {
    if (rows.length === 0) return;
    await run(db, insertRecords(rows.length), rows.flatMap(rowParams));
    for (const row of rows) {
      const anchor = anchorOfRow(row);
      if (anchor) await run(db, INSERT_CHECKPOINT, [anchor.writer_id, anchor.seq, anchor.jws]);
    }
  }

  async meta(key: string, fallback: string): Promise<string> {
    await run(this.pool, INSERT_META, [key, fallback]);
    return String((await run(this.pool, SELECT_META, [key]))[0]?.value);
  }

  async head(writer: string): Promise<ChainHead | undefined> {
    const row = (await run(this.pool, SELECT_HEAD, [writer]))[0];
    return row ? { seq: Number(row.seq), hash: String(row.hash) } : undefined;
  }

  async append(rows: readonly StoredRow[]): Promise<void> {
    await this.transaction((db) => this.insertRows(db, rows));
  }

  async rowsForDecision(decisionId: string): Promise<StoredRow[]> {
    return (await run(this.pool, SELECT_DECISION_ROWS, [decisionId])).map(toRow);
  }

  async query(filter: AuditFilter, cursor?: string, limit = 100): Promise<AuditPage> {
    const q = queryRecords(filter, decodeCursor(cursor), limit + 1);
    const rows = (await run(this.pool, q.text, q.params)).map(toRow);
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
          ? await run(this.pool, SELECT_CHAIN_PAGE, [after[0], after[1], PAGE])
          : await run(this.pool, SELECT_WRITER_CHAIN_PAGE, [writer, after[1], PAGE])
      ).map(toRow);
      yield* rows;
      const last = rows.at(-1);
      if (!last || rows.length < PAGE) return;
      after = [last.writer_id, last.seq];
    }
  }

  async writers(): Promise<string[]> {
    return (await run(this.pool, SELECT_WRITERS)).map((r) => String(r.writer_id));
  }

  async anchors(writer?: string): Promise<StoredAnchor[]> {
    const rows =
      writer === undefined
        ? await run(this.pool, SELECT_ANCHORS)
        : await run(this.pool, SELECT_WRITER_ANCHORS, [writer]);
    return rows.map((r) => ({ writer_id: String(r.writer_id), seq: Number(r.seq), jws: String(r.jws) }));
  }

  async retain(beforeMs: number, build: (cuts: readonly RetentionCut[]) => StoredRow | undefined): Promise<number> {
    return this.transaction(async (db) => {
      // One retention at a time per schema, so two nodes never compute cuts from a half-deleted state.
      await run(db, "SELECT pg_advisory_xact_lock(hashtext(?))", [`signalbox.audit.retention.${this.schema}`]);
      const prefixes = (await run(db, SELECT_RETENTION_PREFIX, [beforeMs])).map((r) => ({
        writer_id: String(r.writer_id),
        seq: Number(r.seq),
        hash: String(r.hash),
      }));
      let deleted = 0;
      for (const p of prefixes) {
        const result = await db.query(numberedPlaceholders(DELETE_PREFIX), [p.writer_id, p.seq]);
        deleted += result.rowCount ?? 0;
      }
      const starts = (await run(db, SELECT_CHAIN_STARTS)).map((r) => ({
        writer_id: String(r.writer_id),
        seq: Number(r.seq),
        prev_hash: String(r.prev_hash),
      }));
      const row = build(cutsAfterRetention(prefixes, starts));
      if (row) await this.insertRows(db, [row]);
      return deleted;
    });
  }

  /** Runs raw SQL (with `?` placeholders); for tests that tamper with the trail. */
  async exec(text: string, params: readonly Param[] = []): Promise<void> {
    await run(this.pool, text, params);
  }

  /** Drops this backend's schema; for tests that used a schema of their own. */
  async dropSchema(): Promise<void> {
    await this.pool.query(`DROP SCHEMA IF EXISTS "${this.schema}" CASCADE`);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
