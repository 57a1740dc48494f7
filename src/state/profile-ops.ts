/** Applying profile updates (`see`, `set`) to a profile document; shared by every adapter that stores documents. */

import type { Profile, SeenStats, StateUpdate } from "./port.js";

type ProfileUpdate = Extract<StateUpdate, { op: "see" } | { op: "set" }>;

/**
 * Whether a field or value may be a key of a profile document. Values come from requests (device
 * ids, user agents, action names), and `__proto__` as a plain-object key reads the prototype and
 * writes it: learning it would pollute every object in the process. It is never learned and so
 * always reads as unknown.
 */
export function isStorableKey(key: string): boolean {
  return key !== "__proto__";
}

/** Applies one update in place; returns the values a `see` evicted to stay within its cap (usually none). */
export function applyToProfile(p: Profile, u: ProfileUpdate): readonly string[] {
  if (!isStorableKey(u.field) || (u.op === "see" && !isStorableKey(u.value))) return NONE;
  if (u.op === "set") {
    p.values[u.field] = u.value;
    return NONE;
  }
  let set = p.sets[u.field];
  if (!set) {
    set = {};
    p.sets[u.field] = set;
  }
  const s = Object.hasOwn(set, u.value) ? set[u.value] : undefined;
  if (s) {
    s.n += 1;
    if (u.at > s.last) s.last = u.at;
    if (u.at < s.first) s.first = u.at;
    return NONE;
  }
  set[u.value] = { n: 1, first: u.at, last: u.at };
  const keys = Object.keys(set);
  return keys.length > u.cap ? evictLeastRecent(set, keys.length - u.cap) : NONE;
}

const NONE: readonly string[] = Object.freeze([]);

/**
 * Evicts the `howMany` values seen least recently and returns them; ties go to the value that comes first in the
 * set's key order, as a stable sort by last-seen time would. The common case (one over the cap
 * on a 2,000-value population set) is a linear scan instead of a sort.
 */
export function evictLeastRecent(set: Record<string, SeenStats>, howMany: number): string[] {
  if (howMany === 1) {
    let victim: string | undefined;
    let oldest = Number.POSITIVE_INFINITY;
    for (const key in set) {
      const last = (set[key] as SeenStats).last;
      if (last < oldest) {
        oldest = last;
        victim = key;
      }
    }
    if (victim === undefined) return [];
    delete set[victim];
    return [victim];
  }
  const byAge = Object.entries(set).sort((a, b) => a[1].last - b[1].last);
  const victims: string[] = [];
  for (let i = 0; i < howMany; i++) {
    const victim = byAge[i];
    if (victim) {
      delete set[victim[0]];
      victims.push(victim[0]);
    }
  }
  return victims;
}
