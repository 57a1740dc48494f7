/**
 * The audit store: reading, verifying and pruning the trail, and the backend port every database
 * adapter (SQLite, PostgreSQL) implements underneath the group-commit writer.
 *
 * Contract every backend keeps (checked by `test/audit/conformance.ts`):
 * - `append` commits all its rows in one transaction or none; a row whose `(writer_id, seq)` exists
 *   fails the whole batch, so two processes sharing a writer id cannot fork a chain.
 * - `iterate` yields rows in chain order (writer id, then stored seq) exactly as stored, including
 *   tampered ones, so verification sees what an auditor would.
 * - `query` orders by event time, then writer id and seq; its cursor is opaque and stable under
 *   concurrent appends.
 * - `retain` deletes, per writer, the chain prefix written before the cut time and writes the
 *   checkpoint built from the cuts in the same transaction.
 */

import type { ControlPath } from "../model/control-path.js";
import type { ChainHead } from "./chain.js";
import type { AuditRecordKind, AuditRecordV1, RetentionCut } from "./record.js";

/** One stored row: the index columns next to the record they were derived from. */
export interface StoredRow {
  readonly writer_id: string;
  readonly seq: number;
  readonly kind: string;
  readonly decision_id: string | null;
  readonly event_ms: number;
  readonly wall_ms: number;
  readonly subject: string | null;
  readonly segment: string | null;
  readonly control_path: string | null;
  readonly reason_codes: string | null;
  readonly shadow: number;
  readonly hash: string;
  readonly prev_hash: string;
  /** The record as canonical JSON without `hash`: exactly the text `hash` is the SHA-256 of. */
  readonly body: string;
}

export interface AuditFilter {
  readonly writer?: string;
  readonly kind?: AuditRecordKind;
  readonly decisionId?: string;
  /** Identity key `type:id`. */
  readonly subject?: string;
  readonly segment?: string;
  readonly controlPath?: ControlPath;
  /** A reason code of the decision. */
  readonly reason?: string;
  /** Event time range, epoch ms: `from` inclusive, `to` exclusive. */
  readonly from?: number;
  readonly to?: number;
  readonly shadow?: boolean;
}

export interface AuditPage {
  readonly records: readonly AuditRecordV1[];
  /** Pass back to `query` for the next page; absent on the last page. */
  readonly next?: string;
}

/** A signed checkpoint kept beside the records (it survives truncation of the records table). */
export interface StoredAnchor {
  readonly writer_id: string;
  readonly seq: number;
  readonly jws: string;
}

/** Reading side of the trail, for the CLI, the API and verification. */
export interface AuditStore {
  query(filter: AuditFilter, cursor?: string, limit?: number): Promise<AuditPage>;
  /** Rows in chain order, for one writer or all. */
  iterate(writer?: string): AsyncIterable<StoredRow>;
  /** Writer ids with at least one record, sorted. */
  writers(): Promise<string[]>;
  anchors(writer?: string): Promise<StoredAnchor[]>;
  /** Deletes records written before `time` (epoch ms); returns how many were deleted. */
  deleteBefore(time: number): Promise<number>;
}

export interface AppendOptions {
  /**
   * The rows continue chains from the rows of the previous `append`, which may not be committed yet
   * (see `pipelined`): commit them only if that call committed.
   */
  readonly afterPrevious?: boolean;
}

/**
 * A link handed to a backend that builds its rows itself (`appendLinks`): where the chain continues,
 * a decision entry or an unchained record as JSON (masked, chained and hashed by the backend), or a
 * row the trail chained (a checkpoint).
 */
export type ChainLink =
  | { readonly head: ChainHead }
  | { readonly decision: string }
  | { readonly record: string }
  | { readonly row: StoredRow };

/** What a database adapter provides; the chain, batching and masking live above it, unless it builds rows itself. */
/** What a writer's chain builder needs (see `chain-builder.ts`): its chain, and how to mask requests. */
export interface ChainBuilderOptions {
  readonly writerId: string;
  /** Dotted request paths to mask. */
  readonly mask: readonly string[];
  readonly maskKey: string | Uint8Array;
}

export interface AuditBackend extends Omit<AuditStore, "deleteBefore"> {
  readonly kind: string;
  /** `append` may be called before the previous call resolved: calls commit in call order. */
  readonly pipelined?: boolean;
  /** Value of a store-wide setting, set to `fallback` first when absent (first writer wins). */
  meta(key: string, fallback: string): Promise<string>;
  head(writer: string): Promise<ChainHead | undefined>;
  append(rows: readonly StoredRow[], options?: AppendOptions): Promise<void>;
  /**
   * Set by a backend that masks, chains and hashes records where they commit (off the main thread):
   * commits `links` in one transaction (in call order, like `append`) and resolves with the writer's
   * chain head after them. The first links after opening, a failure or a retention cut start with a
   * `head` link.
   */
  appendLinks?(links: readonly ChainLink[], options?: AppendOptions): Promise<ChainHead>;
  /** With `appendLinks`: prepares the builder of this writer's chain; called once, before any append. */
  buildChain?(options: ChainBuilderOptions): Promise<void>;
  rowsForDecision(decisionId: string): Promise<StoredRow[]>;
  /**
   * In one transaction: deletes each writer's chain prefix of rows written before `beforeMs`, computes
   * where every chain now starts, and appends the row `build` makes from those cuts (if any).
   */
  retain(beforeMs: number, build: (cuts: readonly RetentionCut[]) => StoredRow | undefined): Promise<number>;
  close(): Promise<void>;
}
