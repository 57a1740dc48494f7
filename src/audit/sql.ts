/**
 * SQL text shared by the SQLite and PostgreSQL backends, written once with `?` placeholders (the
 * PostgreSQL backend numbers them) and only types both databases accept.
 */

import type { AuditFilter, StoredRow } from "./store.js";

/** Ordered schema migrations; a store applies those above its `schema_migrations` maximum. */
export const MIGRATIONS: readonly { readonly version: number; readonly statements: readonly string[] }[] = [
  {
    version: 1,
    statements: [
      `CREATE TABLE IF NOT EXISTS audit_records (
        writer_id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        kind TEXT NOT NULL,
        decision_id TEXT,
        event_ms BIGINT NOT NULL,
        wall_ms BIGINT NOT NULL,
        subject TEXT,
        segment TEXT,
        control_path TEXT,
        reason_codes TEXT,
        shadow INTEGER NOT NULL DEFAULT 0,
        hash TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (writer_id, seq)
      )`,
      "CREATE INDEX IF NOT EXISTS audit_records_decision ON audit_records (decision_id)",
      "CREATE INDEX IF NOT EXISTS audit_records_time ON audit_records (event_ms, writer_id, seq)",
      "CREATE INDEX IF NOT EXISTS audit_records_subject ON audit_records (subject, event_ms)",
      "CREATE INDEX IF NOT EXISTS audit_records_wall ON audit_records (writer_id, wall_ms)",
      `CREATE TABLE IF NOT EXISTS audit_checkpoints (
        writer_id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        jws TEXT NOT NULL,
        PRIMARY KEY (writer_id, seq)
      )`,
      "CREATE TABLE IF NOT EXISTS audit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ],
  },
];

export const CREATE_MIGRATIONS_TABLE =
  "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)";
export const SELECT_MIGRATION_VERSION = "SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations";
export const INSERT_MIGRATION = "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)";

const ROW_COLUMNS =
  "writer_id, seq, kind, decision_id, event_ms, wall_ms, subject, segment, control_path, reason_codes, shadow, hash, prev_hash, body";
const ROW_ARITY = 14;

export const SELECT_ROWS = `SELECT ${ROW_COLUMNS} FROM audit_records`;

/** A multi-row insert of `n` records. */
export function insertRecords(n: number): string {
  const one = `(${Array.from({ length: ROW_ARITY }, () => "?").join(", ")})`;
  return `INSERT INTO audit_records (${ROW_COLUMNS}) VALUES ${Array.from({ length: n }, () => one).join(", ")}`;
}

export function rowParams(row: StoredRow): (string | number | null)[] {
  return [
    row.writer_id,
    row.seq,
    row.kind,
    row.decision_id,
    row.event_ms,
    row.wall_ms,
    row.subject,
    row.segment,
    row.control_path,
    row.reason_codes,
    row.shadow,
    row.hash,
    row.prev_hash,
    row.body,
  ];
}

/** A row from its `rowParams` (the inverse, for rows sent as parameters). */
export function rowOfParams(p: readonly unknown[]): StoredRow {
  return {
    writer_id: p[0] as string,
    seq: p[1] as number,
    kind: p[2] as StoredRow["kind"],
    decision_id: p[3] as string | null,
    event_ms: p[4] as number,
    wall_ms: p[5] as number,
    subject: p[6] as string | null,
    segment: p[7] as string | null,
    control_path: p[8] as string | null,
    reason_codes: p[9] as string | null,
    shadow: p[10] as number,
    hash: p[11] as string,
    prev_hash: p[12] as string,
    body: p[13] as string,
  };
}

export const INSERT_CHECKPOINT = "INSERT INTO audit_checkpoints (writer_id, seq, jws) VALUES (?, ?, ?)";
export const SELECT_HEAD = "SELECT seq, hash FROM audit_records WHERE writer_id = ? ORDER BY seq DESC LIMIT 1";
export const SELECT_DECISION_ROWS = `${SELECT_ROWS} WHERE decision_id = ? ORDER BY wall_ms, writer_id, seq`;
export const SELECT_WRITERS = "SELECT DISTINCT writer_id FROM audit_records ORDER BY writer_id";
export const SELECT_ANCHORS = "SELECT writer_id, seq, jws FROM audit_checkpoints ORDER BY writer_id, seq";
export const SELECT_WRITER_ANCHORS =
  "SELECT writer_id, seq, jws FROM audit_checkpoints WHERE writer_id = ? ORDER BY writer_id, seq";
export const INSERT_META = "INSERT INTO audit_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING";
export const SELECT_META = "SELECT value FROM audit_meta WHERE key = ?";

/** One page of chain order, after `(writer, seq)`. */
export const SELECT_CHAIN_PAGE = `${SELECT_ROWS} WHERE (writer_id, seq) > (?, ?) ORDER BY writer_id, seq LIMIT ?`;
export const SELECT_WRITER_CHAIN_PAGE = `${SELECT_ROWS} WHERE writer_id = ? AND seq > ? ORDER BY seq LIMIT ?`;

/** Retention: the last seq per writer written before the cut, with its hash. */
export const SELECT_RETENTION_PREFIX = `SELECT r.writer_id, r.seq, r.hash FROM audit_records r
  JOIN (SELECT writer_id, MAX(seq) AS seq FROM audit_records WHERE wall_ms < ? GROUP BY writer_id) p
  ON r.writer_id = p.writer_id AND r.seq = p.seq`;
export const DELETE_PREFIX = "DELETE FROM audit_records WHERE writer_id = ? AND seq <= ?";
/** Where every chain starts now: its first kept seq and the hash that record links to. */
export const SELECT_CHAIN_STARTS = `SELECT r.writer_id, r.seq, r.prev_hash FROM audit_records r
  JOIN (SELECT writer_id, MIN(seq) AS seq FROM audit_records GROUP BY writer_id) m
  ON r.writer_id = m.writer_id AND r.seq = m.seq`;

/** Escapes a LIKE pattern so `_` and `%` in reason codes match literally. */
function likeLiteral(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** The filtered, keyset-paginated query; `after` is the last `(event_ms, writer_id, seq)` seen. */
export function queryRecords(
  filter: AuditFilter,
  after: readonly [number, string, number] | undefined,
  limit: number,
): { text: string; params: (string | number)[] } {
  const where: string[] = [];
  const params: (string | number)[] = [];
  const eq = (column: string, value: string | number | undefined): void => {
    if (value === undefined) return;
    where.push(`${column} = ?`);
    params.push(value);
  };
  eq("writer_id", filter.writer);
  eq("kind", filter.kind);
  eq("decision_id", filter.decisionId);
  eq("subject", filter.subject);
  eq("segment", filter.segment);
  eq("control_path", filter.controlPath);
  eq("shadow", filter.shadow === undefined ? undefined : filter.shadow ? 1 : 0);
  if (filter.reason !== undefined) {
    where.push("reason_codes LIKE ? ESCAPE '\\'");
    params.push(`% ${likeLiteral(filter.reason)} %`);
  }
  if (filter.from !== undefined) {
    where.push("event_ms >= ?");
    params.push(filter.from);
  }
  if (filter.to !== undefined) {
    where.push("event_ms < ?");
    params.push(filter.to);
  }
  if (after) {
    where.push("(event_ms, writer_id, seq) > (?, ?, ?)");
    params.push(...after);
  }
  const clause = where.length > 0 ? ` WHERE ${where.join(" AND ")}` : "";
  params.push(limit);
  return { text: `${SELECT_ROWS}${clause} ORDER BY event_ms, writer_id, seq LIMIT ?`, params };
}

/** Numbers `?` placeholders as `$1, $2, …` for PostgreSQL. */
export function numberedPlaceholders(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}
