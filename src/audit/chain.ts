/** The hash chain: how a record's hash is computed and placed after its writer's previous record. */

import { hash } from "node:crypto";
import { canonicalJson } from "./canonical-json.js";
import type { AuditRecordV1, UnchainedRecord } from "./record.js";

/** `prev_hash` of the first record of every chain. */
export const GENESIS_HASH = "0".repeat(64);

/** The head of a writer's chain: the last committed seq and hash. */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

export const EMPTY_HEAD: ChainHead = Object.freeze({ seq: 0, hash: GENESIS_HASH });

/** SHA-256 (hex) over the canonical JSON of the record without its `hash` member. */
export function hashRecord(record: Omit<AuditRecordV1, "hash"> | AuditRecordV1): string {
  const { hash: _ignored, ...rest } = record as AuditRecordV1;
  return sha256Hex(canonicalJson(rest));
}

/** Places a record after `head` in `writerId`'s chain. */
export function chainRecord(record: UnchainedRecord, writerId: string, head: ChainHead): AuditRecordV1 {
  return chainRecordWithBody(record, writerId, head).record;
}

/**
 * Places a record and returns the exact text its hash covers (the canonical JSON without `hash`),
 * which is what stores keep, so the text is serialised once per record.
 */
export function chainRecordWithBody(
  record: UnchainedRecord,
  writerId: string,
  head: ChainHead,
): { record: AuditRecordV1; body: string } {
  const placed = { ...record, seq: head.seq + 1, writer_id: writerId, prev_hash: head.hash };
  const body = canonicalJson(placed);
  return { record: { ...placed, hash: sha256Hex(body) } as AuditRecordV1, body };
}

export function sha256Hex(text: string): string {
  // The one-shot form skips the Hash object: measurably cheaper for a record-sized text.
  return hash("sha256", text, "hex");
}
