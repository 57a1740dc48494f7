/** Conversion between audit records and stored rows (the record plus its index columns). */

import { canonicalJson } from "./canonical-json.js";
import type { AuditRecordV1 } from "./record.js";
import type { StoredRow } from "./store.js";

/** The row of a record; `body` is the canonical JSON without `hash` (computed when not given). */
export function rowOfRecord(record: AuditRecordV1, body?: string): StoredRow {
  const decision = record.kind === "decision" ? record : undefined;
  return {
    writer_id: record.writer_id,
    seq: record.seq,
    kind: record.kind,
    decision_id: record.decision_id,
    event_ms: Date.parse(record.event_time),
    wall_ms: Date.parse(record.wall_time),
    subject: decision?.subject ?? null,
    segment: decision?.segment ?? null,
    control_path: decision?.control_path ?? null,
    reason_codes: decision ? ` ${decision.reasons.map((r) => r.code).join(" ")} ` : null,
    shadow: decision?.shadow ? 1 : 0,
    hash: record.hash,
    prev_hash: record.prev_hash,
    body: body ?? canonicalJson({ ...record, hash: undefined }),
  };
}

export function recordOfRow(row: StoredRow): AuditRecordV1 {
  return { ...(JSON.parse(row.body) as Omit<AuditRecordV1, "hash">), hash: row.hash } as AuditRecordV1;
}

/**
 * Index columns that disagree with the record they were derived from (seq excepted: it orders;
 * hash excepted: it is checked against the body itself).
 */
export function columnMismatches(row: StoredRow, record: AuditRecordV1): string[] {
  const expected = rowOfRecord(record);
  const names = [
    "writer_id",
    "kind",
    "decision_id",
    "event_ms",
    "wall_ms",
    "subject",
    "segment",
    "control_path",
    "reason_codes",
    "shadow",
    "prev_hash",
  ] as const;
  return names.filter((n) => row[n] !== expected[n]);
}
