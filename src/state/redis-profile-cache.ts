/**
 * Node-local copies of identity profiles for the Redis state adapter, each kept with the version of
 * the Redis hash it equals (ADR 0018). A read sends the copy's version instead of fetching the hash,
 * and Redis answers "same" or the hash. After this node's own write, a copy whose version was the
 * one the write started from gets the same updates, applied with the memory adapter's
 * `applyToProfile`, and the version the write ended at; any other copy the write touched is dropped.
 *
 * What keeps it correct: every copy is a pair (version, profile) that the hash really was at some
 * moment, and a version never names two contents of one key (see `WRITE` in redis-scripts.ts). So
 * whatever order replies are handled in, a copy whose version Redis confirms is the hash's content.
 *
 * Reads hand out the copy itself, and a write changes it in place, whole or not at all, as the
 * memory adapter does with its profiles (ADR 0006): a snapshot may show this node's writes made
 * after its read. Copying the sets a write touches, so that snapshots stayed isolated, cost more
 * than the profile parse the copy saves (ADR 0018 has the figures).
 *
 * Population profiles (`global:*`) are not kept here: `PopulationCache` serves them, and every node
 * writes them, so their versions would rarely match.
 */

import type { Profile, SeenStats, StateUpdate } from "./port.js";
import { applyToProfile } from "./profile-ops.js";
import { summaryOf } from "./profile-summary.js";
import { POPULATION_PREFIX } from "./redis-population.js";
import { FIELD_SEP } from "./redis-scripts.js";

/** A profile as its Redis hash was at `version`. */
export interface ProfileCopy {
  readonly version: number;
  readonly profile: Profile;
}

/** A profile update as the write script got it; a `set` carries its value's JSON, which is what Redis stores. */
export type CopyOp =
  | Extract<StateUpdate, { op: "see" }>
  | { readonly op: "set"; readonly profile: string; readonly field: string; readonly json: string };

/** Counts of what the copies did, for measurements and tests. */
export interface CopyStats {
  /** Reads answered "same": served from the copy. */
  hits: number;
  /** Reads of a copy Redis found out of date: the hash came back through the read script. */
  stale: number;
  /** Copies taken from a read's reply. */
  kept: number;
  /** Writes applied to a copy. */
  applied: number;
  /** Copies dropped after a write: another writer came between, an eviction, or a failed call. */
  dropped: number;
  /** Times the copies were set aside because most checks found them out of date (see `ProfileCopies`). */
  suspensions: number;
}

/** Version checks judged together: when more than half of them found the copy out of date, copies are set aside. */
export const CHECK_WINDOW = 1000;
/** Reads served without copies after they were set aside, before the node tries copies again. */
export const SUSPENDED_READS = 20_000;

/**
 * Copies pay off where one node serves an identity's requests. Where other nodes write the same
 * identities between this node's reads (a load balancer without affinity), most checks find the
 * copy out of date, and an out-of-date copy costs Redis the hash through Lua, about ten times a
 * plain `HGETALL`. So when more than half of the last `CHECK_WINDOW` checks missed, the node drops
 * its copies and reads profiles with `HGETALL` for the next `SUSPENDED_READS` reads, then tries
 * copies again. Setting them aside never changes what a read returns, only how it is fetched.
 */
export class ProfileCopies {
  private readonly entries = new Map<string, ProfileCopy>();
  readonly stats: CopyStats = { hits: 0, stale: 0, kept: 0, applied: 0, dropped: 0, suspensions: 0 };
  private windowChecks = 0;
  private windowStale = 0;
  /** Reads left before copies are used again; 0 while they are in use. */
  private suspendedReads = 0;

  /** @param capacity most identities kept (least recently used dropped first); 0 keeps none. */
  constructor(readonly capacity: number) {}

  /** Whether reads of this profile key go through a copy. */
  covers(key: string): boolean {
    return this.capacity > 0 && this.suspendedReads === 0 && !key.startsWith(POPULATION_PREFIX);
  }

  /** Whether copies are set aside for now because most checks missed. */
  get suspended(): boolean {
    return this.suspendedReads > 0;
  }

  /** Counts one read of the store (called once per read, before its profiles are looked at). */
  noteRead(): void {
    if (this.suspendedReads > 0) this.suspendedReads--;
  }

  /** A version check Redis answered "same". */
  hit(): void {
    this.stats.hits++;
    this.judge(false);
  }

  /** A version check that found the copy out of date. */
  miss(): void {
    this.stats.stale++;
    this.judge(true);
  }

  private judge(stale: boolean): void {
    this.windowChecks++;
    if (stale) this.windowStale++;
    if (this.windowChecks < CHECK_WINDOW) return;
    if (2 * this.windowStale > this.windowChecks) {
      this.entries.clear();
      this.suspendedReads = SUSPENDED_READS;
      this.stats.suspensions++;
    }
    this.windowChecks = 0;
    this.windowStale = 0;
  }

  /** How many copies are held. */
  get size(): number {
    return this.entries.size;
  }

  /** The copy of a profile, which becomes the most recently used. */
  get(key: string): ProfileCopy | undefined {
    const copy = this.entries.get(key);
    if (copy) {
      this.entries.delete(key);
      this.entries.set(key, copy);
    }
    return copy;
  }

  /** The copy of a profile, leaving the order of use alone (for tests). */
  peek(key: string): ProfileCopy | undefined {
    return this.entries.get(key);
  }

  /**
   * Keeps a profile just read from Redis as the copy at `version`. A hash without a version (written
   * before versions existed) leaves no copy.
   */
  keep(key: string, version: number | undefined, profile: Profile): void {
    this.entries.delete(key);
    if (version === undefined || this.suspendedReads > 0) return;
    this.entries.set(key, { version, profile });
    this.stats.kept++;
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }

  /**
   * Brings the copies up to date after a write script call that applied `ops` (every profile update
   * of the call, in order) and replied, per profile in the order the call first touched them,
   * `version before, version after, evicted`.
   */
  afterWrite(ops: readonly CopyOp[], reply: unknown): void {
    const byProfile = new Map<string, CopyOp[]>();
    for (const op of ops) {
      const list = byProfile.get(op.profile);
      if (list) list.push(op);
      else byProfile.set(op.profile, [op]);
    }
    const versions = reply as readonly number[];
    if (!Array.isArray(versions) || versions.length !== 3 * byProfile.size) {
      for (const key of byProfile.keys()) this.drop(key);
      return;
    }
    let i = 0;
    for (const [key, list] of byProfile) {
      const before = versions[i];
      const after = versions[i + 1] as number;
      const evicted = versions[i + 2];
      i += 3;
      const copy = this.entries.get(key);
      if (!copy) continue;
      if (evicted === 0 && copy.version === before && applied(copy.profile, list)) {
        this.entries.delete(key);
        this.entries.set(key, { version: after, profile: copy.profile });
        this.stats.applied++;
      } else {
        this.drop(key);
      }
    }
  }

  /** Drops the copies a failed write call touched: it may have been applied, in part or whole, or not at all. */
  afterFailedWrite(ops: readonly CopyOp[]): void {
    for (const op of ops) this.drop(op.profile);
  }

  /** Drops every copy. */
  clear(): void {
    this.entries.clear();
  }

  private drop(key: string): void {
    if (this.entries.delete(key)) this.stats.dropped++;
  }
}

/**
 * Applies `ops` to `profile` in place, or leaves it untouched and returns false when the result could
 * differ from what Redis holds: a `see` would take a field over its cap (Redis may evict another of
 * equally old values than the memory rules would), or a field name holds the hash layout's separator
 * (Redis reads such a field back differently). Checked before any change, so a snapshot holding the
 * profile never sees half a write.
 */
function applied(profile: Profile, ops: readonly CopyOp[]): boolean {
  if (!fitsWithinCaps(profile, ops)) return false;
  for (const op of ops) {
    if (op.op === "see") applyToProfile(profile, op);
    else applyToProfile(profile, { op: "set", profile: op.profile, field: op.field, value: JSON.parse(op.json) });
  }
  return true;
}

/** Whether every `see` of `ops`, applied in order, keeps its field within its cap; false for a field holding the separator. */
function fitsWithinCaps(profile: Profile, ops: readonly CopyOp[]): boolean {
  let sizes: Map<string, number> | undefined;
  let added: Set<string> | undefined;
  for (const op of ops) {
    if (op.op !== "see") continue;
    if (op.field.includes(FIELD_SEP)) return false;
    const set = profile.sets[op.field];
    if (set && Object.hasOwn(set, op.value)) continue;
    const id = `${op.field}${FIELD_SEP}${op.value}`;
    if (added?.has(id)) continue;
    added ??= new Set();
    added.add(id);
    sizes ??= new Map();
    const size = (sizes.get(op.field) ?? sizeOf(set)) + 1;
    if (size > op.cap) return false;
    sizes.set(op.field, size);
  }
  return true;
}

function sizeOf(set: Record<string, SeenStats> | undefined): number {
  if (!set) return 0;
  return summaryOf(set)?.size ?? Object.keys(set).length;
}
