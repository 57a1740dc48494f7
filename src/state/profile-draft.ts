/** A copy-on-write draft of a profile: applies `see` and `set` updates without touching the profile it started from. */

import type { JsonValue } from "../model/request.js";
import type { Profile, SeenStats, StateUpdate } from "./port.js";
import { evictLeastRecent, isStorableKey } from "./profile-ops.js";

type ProfileUpdate = Extract<StateUpdate, { op: "see" } | { op: "set" }>;

/**
 * The SQLite adapter's cached profiles are shared with readers' snapshots, so a batch of writes
 * works on a draft: each touched field is copied once per batch (not per update), stats objects are
 * replaced rather than mutated, and the result is a new profile. Same rules as `applyToProfile`.
 */
export class ProfileDraft {
  readonly profile: Profile;
  /** Decision time of the last write that touched this profile, for `touched_at`. */
  touchedAt: number;
  private readonly sizes = new Map<string, number>();

  constructor(base: Profile, touchedAt: number) {
    this.profile = { sets: { ...base.sets }, values: { ...base.values } };
    this.touchedAt = touchedAt;
  }

  apply(u: ProfileUpdate): void {
    if (!isStorableKey(u.field) || (u.op === "see" && !isStorableKey(u.value))) return;
    if (u.op === "set") {
      // A copy, so a caller changing its object later cannot change the cached profile.
      this.profile.values[u.field] = copyJson(u.value);
      return;
    }
    const set = this.ownSet(u.field);
    const s = Object.hasOwn(set, u.value) ? set[u.value] : undefined;
    if (s) {
      set[u.value] = { n: s.n + 1, first: Math.min(s.first, u.at), last: Math.max(s.last, u.at) };
      return;
    }
    set[u.value] = { n: 1, first: u.at, last: u.at };
    const size = (this.sizes.get(u.field) ?? 0) + 1;
    this.sizes.set(u.field, size);
    if (size > u.cap) {
      evictLeastRecent(set, size - u.cap);
      this.sizes.set(u.field, u.cap);
    }
  }

  /** The field's set, copied from the base on first touch. */
  private ownSet(field: string): Record<string, SeenStats> {
    const own = this.sizes.has(field) ? this.profile.sets[field] : undefined;
    if (own) return own;
    const copy = { ...this.profile.sets[field] };
    this.profile.sets[field] = copy;
    this.sizes.set(field, Object.keys(copy).length);
    return copy;
  }
}

function copyJson(value: JsonValue): JsonValue {
  return value !== null && typeof value === "object" ? (JSON.parse(JSON.stringify(value)) as JsonValue) : value;
}
