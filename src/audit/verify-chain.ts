/**
 * Chain verification: walks every writer's chain and names the first record that was modified,
 * deleted, inserted or reordered, and, given the checkpoint public key, a truncated tail.
 */

import type { KeyObject } from "node:crypto";
import { SignalboxError } from "../errors/signalbox-error.js";
import { GENESIS_HASH, hashRecord, sha256Hex } from "./chain.js";
import { type CheckpointClaim, verifyCheckpoint } from "./checkpoint-key.js";
import { AUDIT_SCHEMA, type AuditRecordV1, type RetentionCut } from "./record.js";
import type { AuditStore, StoredRow } from "./store.js";
import { columnMismatches, recordOfRow } from "./stored-row.js";

export type ChainProblem = "modified" | "deleted" | "inserted" | "reordered" | "truncated";

export interface BrokenLink {
  readonly writer: string;
  /** The record where the chain breaks; for `deleted` and `truncated`, the first missing seq. */
  readonly seq: number;
  /** Decision id of that record; for `deleted`, of the record after the gap; null when unknown. */
  readonly decisionId: string | null;
  readonly problem: ChainProblem;
  readonly message: string;
}

export interface ChainVerification {
  readonly ok: boolean;
  /** Records examined. */
  readonly checked: number;
  readonly writers: readonly string[];
  /** With a public key: records written after the last signed checkpoint of their chain. */
  readonly unanchored?: number;
  readonly firstBroken?: BrokenLink;
}

export interface VerifyOptions {
  /** Verify one writer's chain only. Default: every chain. */
  readonly writer?: string;
  /** Public key of the checkpoint signer; enables truncation detection. */
  readonly publicKey?: KeyObject;
  /** Checkpoint JWS kept outside the store (e.g. shipped to a log), checked like stored ones. */
  readonly anchors?: readonly string[];
  /** How far ahead to look for a record found out of place. Default 64. */
  readonly lookahead?: number;
}

type Store = Pick<AuditStore, "iterate" | "writers" | "anchors" | "query">;

/** Verifies the hash chains of `store`. */
export async function verifyChain(store: Store, options: VerifyOptions = {}): Promise<ChainVerification> {
  const cuts = await retentionCuts(store, options.writer);
  const signed = options.publicKey ? await signedHeads(store, options.publicKey, options) : undefined;
  if (signed?.broken) return { ok: false, checked: 0, writers: [], firstBroken: signed.broken };
  const writers = new Set(options.writer ? [options.writer] : await store.writers());
  if (!options.writer) for (const w of signed?.heads.keys() ?? []) writers.add(w);
  const sorted = [...writers].sort();
  let checked = 0;
  let unanchored = 0;
  for (const writer of sorted) {
    const heads = signed?.heads.get(writer) ?? new Map<number, string>();
    const maxAnchor = Math.max(0, ...heads.keys());
    const walk = await walkChain(store.iterate(writer), writer, cuts.get(writer), heads, maxAnchor, options);
    checked += walk.checked;
    unanchored += walk.unanchored;
    const broken =
      walk.broken ??
      (maxAnchor > walk.lastSeq
        ? {
            writer,
            seq: walk.lastSeq + 1,
            decisionId: null,
            problem: "truncated" as const,
            message: `chain "${writer}" ends at seq ${walk.lastSeq} but a signed checkpoint vouches for seq ${maxAnchor}`,
          }
        : undefined);
    if (broken) return { ok: false, checked, writers: sorted, firstBroken: broken };
  }
  return { ok: true, checked, writers: sorted, ...(signed ? { unanchored } : {}) };
}

/** The latest retention cut per writer, from intact retention checkpoints. */
async function retentionCuts(store: Store, writer: string | undefined): Promise<Map<string, RetentionCut>> {
  const cuts = new Map<string, RetentionCut>();
  let cursor: string | undefined;
  do {
    const page = await store.query({ kind: "checkpoint" }, cursor, 500);
    for (const record of page.records) {
      if (record.kind !== "checkpoint" || hashRecord(record) !== record.hash) continue;
      for (const cut of record.checkpoint.cuts ?? []) {
        if (writer !== undefined && cut.writer_id !== writer) continue;
        const known = cuts.get(cut.writer_id);
        if (!known || cut.seq > known.seq) cuts.set(cut.writer_id, cut);
      }
    }
    cursor = page.next;
  } while (cursor);
  return cuts;
}

/** Heads vouched for by signed checkpoints, per writer: seq → hash. */
async function signedHeads(
  store: Store,
  key: KeyObject,
  options: VerifyOptions,
): Promise<{ heads: Map<string, Map<number, string>>; broken?: BrokenLink }> {
  const heads = new Map<string, Map<number, string>>();
  const add = (claim: CheckpointClaim): void => {
    if (options.writer !== undefined && claim.writer_id !== options.writer) return;
    const m = heads.get(claim.writer_id) ?? new Map<number, string>();
    m.set(claim.head_seq, claim.head_hash);
    heads.set(claim.writer_id, m);
  };
  for (const anchor of await store.anchors(options.writer)) {
    const claim = await verifyCheckpoint(anchor.jws, key);
    if (!claim || claim.writer_id !== anchor.writer_id) {
      return {
        heads,
        broken: {
          writer: anchor.writer_id,
          seq: anchor.seq,
          decisionId: null,
          problem: "modified",
          message: `stored checkpoint at seq ${anchor.seq} of "${anchor.writer_id}" does not verify with the public key`,
        },
      };
    }
    add(claim);
  }
  for (const [i, jws] of (options.anchors ?? []).entries()) {
    const claim = await verifyCheckpoint(jws, key);
    if (!claim)
      throw new SignalboxError("CONFIG_INVALID", `checkpoint anchor ${i + 1} does not verify with the public key`);
    add(claim);
  }
  return { heads };
}

/** Reads ahead of the chain walk without loading the chain into memory. */
class Lookahead<T> {
  private readonly buffer: T[] = [];
  private done = false;
  constructor(private readonly source: AsyncIterator<T>) {}
  private async fill(n: number): Promise<void> {
    while (!this.done && this.buffer.length < n) {
      const r = await this.source.next();
      if (r.done) this.done = true;
      else this.buffer.push(r.value);
    }
  }
  async next(): Promise<T | undefined> {
    await this.fill(1);
    return this.buffer.shift();
  }
  async peek(i: number): Promise<T | undefined> {
    await this.fill(i + 1);
    return this.buffer[i];
  }
}

/** The record of a row if the row is intact: parses, hashes to its `hash`, and its columns agree. */
function intact(row: StoredRow): { record?: AuditRecordV1; problem?: string } {
  if (sha256Hex(row.body) !== row.hash) return { problem: "its content does not match its hash" };
  let record: AuditRecordV1;
  try {
    record = recordOfRow(row);
  } catch {
    return { problem: "its body is not JSON" };
  }
  if (record.schema !== AUDIT_SCHEMA) return { problem: `its schema is "${String(record.schema)}"` };
  const columns = columnMismatches(row, record);
  if (columns.length > 0) return { problem: `its columns ${columns.join(", ")} disagree with its content` };
  return { record };
}

interface Walk {
  readonly checked: number;
  readonly lastSeq: number;
  readonly unanchored: number;
  readonly broken?: BrokenLink;
}

async function walkChain(
  rows: AsyncIterable<StoredRow>,
  writer: string,
  cut: RetentionCut | undefined,
  heads: ReadonlyMap<number, string>,
  maxAnchor: number,
  options: VerifyOptions,
): Promise<Walk> {
  const ahead = new Lookahead(rows[Symbol.asyncIterator]());
  const window = options.lookahead ?? 64;
  let expected = cut?.seq ?? 1;
  let prevHash = cut?.prev_hash ?? GENESIS_HASH;
  let previous: AuditRecordV1 | undefined;
  let checked = 0;
  let unanchored = 0;
  const seqOf = (row: StoredRow | undefined): number | undefined => (row ? intact(row).record?.seq : undefined);
  const stop = (seq: number, decisionId: string | null, problem: ChainProblem, message: string): Walk => ({
    checked,
    lastSeq: expected - 1,
    unanchored,
    broken: { writer, seq, decisionId, problem, message: `chain "${writer}": ${message}` },
  });

  for (let row = await ahead.next(); row; row = await ahead.next()) {
    checked++;
    const { record, problem } = intact(row);
    if (!record) return stop(row.seq, row.decision_id, "modified", `record at seq ${row.seq} was modified: ${problem}`);
    const id = record.decision_id;
    if (record.seq === expected) {
      if (record.prev_hash !== prevHash) {
        const next = await ahead.peek(0);
        const nextRecord = next ? intact(next).record : undefined;
        if (nextRecord?.seq === expected && nextRecord.prev_hash === prevHash) {
          return stop(record.seq, id, "inserted", `record ${record.seq} was inserted before the genuine one`);
        }
        // An intact record that no longer links: its predecessor was rewritten and re-hashed.
        const target = previous ?? record;
        return stop(
          target.seq,
          target.decision_id,
          "modified",
          `record ${target.seq} was rewritten (seq ${record.seq} no longer links to it)`,
        );
      }
      if (seqOf(await ahead.peek(0)) === expected) {
        const next = await ahead.peek(0);
        const after = await ahead.peek(1);
        const afterRecord = after ? intact(after).record : undefined;
        const nextRecord = next ? intact(next).record : undefined;
        const currentIsForged = nextRecord !== undefined && afterRecord?.prev_hash === nextRecord.hash;
        const forged = currentIsForged ? record : (nextRecord ?? record);
        return stop(forged.seq, forged.decision_id, "inserted", `a second record claims seq ${expected}`);
      }
      const vouched = heads.get(record.seq);
      if (vouched !== undefined && vouched !== record.hash) {
        return stop(record.seq, id, "modified", `record ${record.seq} differs from the signed checkpoint of it`);
      }
      if (record.kind === "checkpoint" && record.checkpoint.jws !== undefined && options.publicKey) {
        const claim = await verifyCheckpoint(record.checkpoint.jws, options.publicKey);
        if (
          !claim ||
          claim.head_seq !== record.checkpoint.head_seq ||
          claim.head_hash !== record.checkpoint.head_hash
        ) {
          return stop(record.seq, id, "modified", `checkpoint ${record.seq} carries a signature that does not verify`);
        }
      }
      if (record.seq > maxAnchor && record.kind !== "checkpoint") unanchored++;
      previous = record;
      expected++;
      prevHash = record.hash;
      continue;
    }
    if (record.seq > expected) {
      for (let i = 0; i < window; i++) {
        const later = await ahead.peek(i);
        if (!later) break;
        const laterRecord = intact(later).record;
        if (laterRecord?.seq === expected) {
          return stop(
            expected,
            laterRecord.decision_id,
            "reordered",
            `record ${expected} is stored after record ${record.seq}`,
          );
        }
      }
      return stop(expected, id, "deleted", `record ${expected} is missing; the chain resumes at seq ${record.seq}`);
    }
    return stop(record.seq, id, "inserted", `record ${record.seq} appears again after seq ${expected - 1}`);
  }
  return { checked, lastSeq: expected - 1, unanchored };
}
