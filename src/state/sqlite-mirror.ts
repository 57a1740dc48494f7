/**
 * The journal behind the SQLite adapter: collects the memory store's row changes and turns them into
 * statement runs for the writer, one row upsert per changed row per batch (coalesced), carrying the
 * row's final value.
 */

import type { JsonObject, JsonValue } from "../model/request.js";
import type { SqlParam } from "../storage/sqlite-writer.js";
import type { PendingDecision, SeenStats } from "./port.js";
import type { ExpiryIndex } from "./sqlite-expiry.js";
import { bucketExpiry, type StatementName } from "./sqlite-schema.js";
import type { DroppedKind, ExpiringKind, StateJournal } from "./state-journal.js";

/** One statement run: a statement of `STATEMENTS` by name, then its parameters. */
export type MirrorOp = readonly [name: StatementName, ...params: SqlParam[]];

/** A changed row, kept until the batch is drained; its final value is read then. */
type Row =
  | { readonly t: "touch"; readonly key: string; at: number }
  | { readonly t: "seen"; readonly key: string; readonly field: string; readonly value: string; stats: SeenStats }
  | { readonly t: "evicted"; readonly key: string; readonly field: string; readonly value: string }
  | { readonly t: "value"; readonly key: string; readonly field: string; value: JsonValue }
  | { readonly t: "count"; readonly key: string; readonly bucket: number; total: number; readonly windowMs: number }
  | {
      readonly t: "member";
      readonly key: string;
      readonly bucket: number;
      readonly member: string;
      readonly windowMs: number;
    }
  | { readonly t: "claim"; readonly key: string; holder: JsonObject; expiresAt: number }
  | { readonly t: "pending"; readonly key: string; record: PendingDecision; expiresAt: number };

/** A row's identity from its parts, length-prefixed so no choice of keys and values can make two rows collide. */
function id(kind: string, a: string, b = "", c = ""): string {
  return `${kind}${a.length}:${a}${b.length}:${b}${c}`;
}

/**
 * Coalescing: within a batch each row is one map entry, replaced by later changes of the same row
 * (an eviction replaces an upsert of the same value, and a later `see` replaces the eviction). Row
 * order between different rows does not matter, except around a whole-entry drop: a drop first
 * seals the rows collected so far, so the entry's rows written before the drop are deleted and any
 * written after it (a profile recreated in the same turn) survive.
 */
export class SqliteMirror implements StateJournal {
  private rows = new Map<string, Row>();
  private sealed: MirrorOp[] = [];
  private pruneAt: number | undefined;

  private readonly touchStepMs: number;

  constructor(
    private readonly expiry: ExpiryIndex,
    private readonly profileRetentionMs: number,
  ) {
    this.touchStepMs = profileRetentionMs / 100;
  }

  /** Rows waiting to be written (after coalescing). */
  get size(): number {
    return this.rows.size + this.sealed.length;
  }

  /** Whether anything waits to be written. */
  get dirty(): boolean {
    return this.rows.size > 0 || this.sealed.length > 0 || this.pruneAt !== undefined;
  }

  /**
   * A profile's `touched_at` is rewritten only once it has moved on by a hundredth of the retention
   * period (1.8 days of 180): retention needs no finer time, and it spares a row on most writes.
   * Memory's retention uses the same written time, so memory and file prune a profile together.
   */
  touched(profile: string, now: number): void {
    const due = now + this.profileRetentionMs;
    const known = this.expiry.dueOf("profile", profile);
    // Already live until later (decision time went backwards), or recently enough written.
    if (known !== undefined && due - known < this.touchStepMs) return;
    const rowId = id("t", profile);
    const row = this.rows.get(rowId);
    if (row?.t === "touch") row.at = now;
    else this.rows.set(rowId, { t: "touch", key: profile, at: now });
    this.expiry.note("profile", profile, due);
  }

  seen(profile: string, field: string, value: string, stats: SeenStats): void {
    this.rows.set(id("s", profile, field, value), { t: "seen", key: profile, field, value, stats });
  }

  evicted(profile: string, field: string, value: string): void {
    this.rows.set(id("s", profile, field, value), { t: "evicted", key: profile, field, value });
  }

  valueSet(profile: string, field: string, value: JsonValue): void {
    this.rows.set(id("v", profile, field), { t: "value", key: profile, field, value });
  }

  counted(counter: string, bucket: number, total: number, windowMs: number): void {
    const rowId = id("c", counter, String(bucket));
    const row = this.rows.get(rowId);
    if (row?.t === "count") row.total = total;
    else this.rows.set(rowId, { t: "count", key: counter, bucket, total, windowMs });
    this.expiry.note("counter", counter, bucketExpiry(bucket, windowMs));
  }

  memberAdded(counter: string, bucket: number, member: string, windowMs: number): void {
    this.rows.set(id("m", counter, String(bucket), member), { t: "member", key: counter, bucket, member, windowMs });
    this.expiry.note("counter", counter, bucketExpiry(bucket, windowMs));
  }

  claimed(key: string, holder: JsonObject, expiresAt: number): void {
    this.rows.set(id("k", key), { t: "claim", key, holder, expiresAt });
    this.expiry.note("claim", key, expiresAt);
  }

  pendingStored(decisionId: string, record: PendingDecision, expiresAt: number): void {
    this.rows.set(id("p", decisionId), { t: "pending", key: decisionId, record, expiresAt });
    this.expiry.note("pending", decisionId, expiresAt);
  }

  dropped(kind: DroppedKind, key: string): void {
    this.seal();
    switch (kind) {
      case "profile":
        this.sealed.push(["dropProfileSets", key], ["dropProfileValues", key], ["dropProfile", key]);
        break;
      case "counter":
        this.sealed.push(["dropCounter", key], ["dropMembers", key]);
        break;
      case "claim":
        this.sealed.push(["dropClaim", key]);
        break;
      case "pending":
        this.sealed.push(["dropPending", key]);
        break;
    }
    this.expiry.forget(kind, key);
  }

  expired(kind: ExpiringKind, key: string, now: number): void {
    // No statement of its own: the batch's deletion of expired rows (at `now` or later) removes it.
    this.expiry.forget(kind, key);
    this.pruneRows(now);
  }

  /** Deletes every expired bucket, member, claim and pending row at decision time `now` in this batch. */
  pruneRows(now: number): void {
    this.pruneAt = this.pruneAt === undefined ? now : Math.max(this.pruneAt, now);
  }

  /** The batch's statement runs, in order; the mirror starts a new batch. */
  drain(): MirrorOp[] {
    this.seal();
    const ops = this.sealed;
    this.sealed = [];
    if (this.pruneAt !== undefined) {
      const at = this.pruneAt;
      ops.push(["pruneCounters", at], ["pruneMembers", at], ["pruneClaims", at], ["prunePending", at]);
      this.pruneAt = undefined;
    }
    return ops;
  }

  private seal(): void {
    if (this.rows.size === 0) return;
    const ops = this.sealed;
    for (const row of this.rows.values()) ops.push(opOf(row));
    this.rows = new Map();
  }
}

function opOf(row: Row): MirrorOp {
  switch (row.t) {
    case "touch":
      return ["touchProfile", row.key, row.at];
    case "seen":
      return ["putSeen", row.key, row.field, row.value, row.stats.n, row.stats.first, row.stats.last];
    case "evicted":
      return ["deleteSeen", row.key, row.field, row.value];
    case "value":
      return ["putValue", row.key, row.field, JSON.stringify(row.value)];
    case "count":
      return ["putCount", row.key, row.bucket, row.total, bucketExpiry(row.bucket, row.windowMs)];
    case "member":
      return ["addMember", row.key, row.bucket, row.member, bucketExpiry(row.bucket, row.windowMs)];
    case "claim":
      return ["putClaim", row.key, JSON.stringify(row.holder), row.expiresAt];
    case "pending":
      return ["putPending", row.key, JSON.stringify(row.record), row.expiresAt];
  }
}
