/** Retention cuts and stored anchors: the bookkeeping that keeps a pruned chain verifiable. */

import type { RetentionCut } from "./record.js";
import type { StoredAnchor, StoredRow } from "./store.js";
import { recordOfRow } from "./stored-row.js";

/**
 * Where each chain starts after a retention delete. A writer whose prefix was just deleted starts
 * after its last deleted record and links to that record's hash (read before deleting, so a later
 * edit of the first kept record cannot move the anchor); other chains keep their current start.
 */
export function cutsAfterRetention(
  deletedPrefixes: readonly { writer_id: string; seq: number; hash: string }[],
  starts: readonly RetentionCut[],
): RetentionCut[] {
  const cuts = new Map<string, RetentionCut>();
  for (const s of starts)
    if (s.seq > 1) cuts.set(s.writer_id, { writer_id: s.writer_id, seq: s.seq, prev_hash: s.prev_hash });
  for (const p of deletedPrefixes) cuts.set(p.writer_id, { writer_id: p.writer_id, seq: p.seq + 1, prev_hash: p.hash });
  return [...cuts.values()].sort((a, b) => (a.writer_id < b.writer_id ? -1 : a.writer_id > b.writer_id ? 1 : 0));
}

/** The signed checkpoint a row carries, kept in its own table too. */
export function anchorOfRow(row: StoredRow): StoredAnchor | undefined {
  if (row.kind !== "checkpoint") return undefined;
  const record = recordOfRow(row);
  if (record.kind !== "checkpoint" || record.checkpoint.jws === undefined) return undefined;
  return { writer_id: row.writer_id, seq: row.seq, jws: record.checkpoint.jws };
}
