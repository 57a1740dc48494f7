/** Applying profile updates (`see`, `set`) to a profile document; shared by every adapter that stores documents. */

import type { Profile, SeenStats, StateUpdate } from "./port.js";
import {
  noteAdded,
  noteEvicted,
  noteSeenAgain,
  type SetSummary,
  SUMMARY_MIN_SIZE,
  summarise,
  summaryOf,
} from "./profile-summary.js";

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

/**
 * Applies one update in place; returns the values a `see` evicted to stay within its cap (usually none).
 * It keeps the set's summary (src/state/profile-summary.ts) in step, and registers one when the set
 * reaches `SUMMARY_MIN_SIZE` values.
 */
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
  const summary = summaryOf(set);
  const s = Object.hasOwn(set, u.value) ? set[u.value] : undefined;
  if (s) {
    s.n += 1;
    if (u.at > s.last) s.last = u.at;
    if (u.at < s.first) s.first = u.at;
    if (summary) noteSeenAgain(summary, u.at);
    return NONE;
  }
  set[u.value] = { n: 1, first: u.at, last: u.at };
  let size: number;
  if (summary) {
    noteAdded(summary, u.at);
    size = summary.size;
  } else {
    size = Object.keys(set).length;
    if (size >= SUMMARY_MIN_SIZE) summarise(set);
  }
  return size > u.cap ? evictLeastRecent(set, size - u.cap) : NONE;
}

const NONE: readonly string[] = Object.freeze([]);

/**
 * How values last seen at the same time are ordered for eviction: by their UTF-8 bytes, the order
 * of equal scores in a Redis sorted set, so every adapter (and a SQLite store reloaded in another
 * key order after a restart) evicts the same value. Only ties reach it.
 */
export function tieOrder(a: string, b: string): number {
  // Without surrogate pairs, UTF-16 order is code point order, which is UTF-8 byte order.
  if (!SURROGATE.test(a) && !SURROGATE.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * Evicts the `howMany` values seen least recently and returns them; ties go to the value first in
 * `tieOrder`. The common case (one over the cap
 * on a 2,000-value population set) is a linear scan instead of a sort. A summarised set's summary
 * is corrected here: the victims are subtracted, and the minima of what remains are recomputed by
 * the same scan.
 */
export function evictLeastRecent(set: Record<string, SeenStats>, howMany: number): string[] {
  const summary = summaryOf(set);
  if (howMany === 1) return summary ? evictOneSummarised(set, summary) : evictOne(set);
  const byAge = Object.entries(set).sort((a, b) => a[1].last - b[1].last || tieOrder(a[0], b[0]));
  const victims: string[] = [];
  let removedTotal = 0;
  for (let i = 0; i < howMany; i++) {
    const victim = byAge[i];
    if (victim) {
      delete set[victim[0]];
      victims.push(victim[0]);
      removedTotal += victim[1].n;
    }
  }
  if (summary) {
    let minFirst = Number.POSITIVE_INFINITY;
    let minLast = Number.POSITIVE_INFINITY;
    for (let i = victims.length; i < byAge.length; i++) {
      const s = (byAge[i] as [string, SeenStats])[1];
      if (!(s.first >= minFirst)) minFirst = s.first;
      if (!(s.last >= minLast)) minLast = s.last;
    }
    noteEvicted(summary, victims.length, removedTotal, minFirst, minLast);
  }
  return victims;
}

function evictOne(set: Record<string, SeenStats>): string[] {
  let victim: string | undefined;
  let oldest = Number.POSITIVE_INFINITY;
  for (const key in set) {
    const last = (set[key] as SeenStats).last;
    if (last < oldest || (last === oldest && victim !== undefined && tieOrder(key, victim) < 0)) {
      oldest = last;
      victim = key;
    }
  }
  if (victim === undefined) return [];
  delete set[victim];
  return [victim];
}

/**
 * `evictOne` that also finds, in the same pass, the smallest `last` and `first` of the values that
 * stay: the runner-up of each minimum is kept, for when the minimum belongs to the victim.
 */
function evictOneSummarised(set: Record<string, SeenStats>, summary: SetSummary): string[] {
  let victim: string | undefined;
  let oldest = Number.POSITIVE_INFINITY;
  let nextOldest = Number.POSITIVE_INFINITY;
  let firstKey: string | undefined;
  let minFirst = Number.POSITIVE_INFINITY;
  let nextMinFirst = Number.POSITIVE_INFINITY;
  let poisoned = false;
  for (const key in set) {
    const s = set[key] as SeenStats;
    if (s.last < oldest) {
      nextOldest = oldest;
      oldest = s.last;
      victim = key;
    } else if (s.last === oldest && victim !== undefined && tieOrder(key, victim) < 0) {
      // The same time, an earlier value: it is the victim, and the one it replaces stays at that time.
      nextOldest = oldest;
      victim = key;
    } else if (s.last < nextOldest) {
      nextOldest = s.last;
    }
    if (s.first < minFirst) {
      nextMinFirst = minFirst;
      minFirst = s.first;
      firstKey = key;
    } else if (s.first < nextMinFirst) {
      nextMinFirst = s.first;
    }
    // A NaN time is never the victim; it keeps the set on the scan path (see `summarise`).
    if (Number.isNaN(s.last) || Number.isNaN(s.first)) poisoned = true;
  }
  if (victim === undefined) return [];
  const removedTotal = (set[victim] as SeenStats).n;
  delete set[victim];
  const remainingFirst = victim === firstKey ? nextMinFirst : minFirst;
  noteEvicted(summary, 1, removedTotal, poisoned ? Number.NaN : remainingFirst, poisoned ? Number.NaN : nextOldest);
  return [victim];
}
