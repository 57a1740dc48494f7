/**
 * The state journal: row-level changes of a `MemoryStateStore`, reported as they happen, so a durable
 * mirror (the SQLite adapter) can write exactly what changed instead of whole documents.
 *
 * Every call carries the row's new, complete value (a learned value's stats, a counter bucket's
 * total), never a delta: a mirror that keeps only the last call per row writes the exact final state.
 * Stats objects are the store's live ones; read them when writing, not later than the next mutation
 * you want to capture (the last value is the one that counts).
 */

import type { JsonObject, JsonValue } from "../model/request.js";
import type { PendingDecision, SeenStats } from "./port.js";

/** An entry the memory store dropped as a whole (its LRU bound, or a prune): all its rows go. */
export type DroppedKind = "profile" | "counter" | "claim" | "pending";

/** Entries that carry an expiry time of their own. */
export type ExpiringKind = Exclude<DroppedKind, "profile">;

export interface StateJournal {
  /** A `see` or `set` on `profile` at decision time `now` (for retention). */
  touched(profile: string, now: number): void;
  /** A learned value's stats after a `see`. */
  seen(profile: string, field: string, value: string, stats: SeenStats): void;
  /** A learned value evicted by its field's cap. */
  evicted(profile: string, field: string, value: string): void;
  /** A scalar set by `set`. */
  valueSet(profile: string, field: string, value: JsonValue): void;
  /** A counter bucket's new total. */
  counted(counter: string, bucket: number, total: number, windowMs: number): void;
  /** A member newly added to a counter's distinct bucket. */
  memberAdded(counter: string, bucket: number, member: string, windowMs: number): void;
  /** A claim won by `holder` until `expiresAt`. */
  claimed(key: string, holder: JsonObject, expiresAt: number): void;
  /** A pending decision stored (or replaced) until `expiresAt`. */
  pendingStored(id: string, record: PendingDecision, expiresAt: number): void;
  /** An entry dropped by the store's bounds or by profile retention: all its rows go. */
  dropped(kind: DroppedKind, key: string): void;
  /**
   * An entry dropped because its time had passed at decision time `now`: every row of it expires
   * at or before `now`, so deleting expired rows removes it.
   */
  expired(kind: ExpiringKind, key: string, now: number): void;
}
