/**
 * Running totals of large learned sets (size, observations, earliest first-seen, a lower bound on the
 * earliest last-seen), so a reader can answer "how much fresh history is there" without a scan.
 *
 * A summary belongs to one set object and is kept beside it in a `WeakMap`, never inside it, so the
 * set's keys, its JSON form and every adapter's storage are unchanged. It is only correct while every
 * in-place change of that set goes through `applyToProfile` / `evictLeastRecent` (src/state/profile-ops.ts),
 * which maintain it. Sets that are never changed in place (an adapter's immutable snapshot copies)
 * may register one with `summarise` once, after they are built. A set without a summary is simply
 * scanned by its readers, so registering one is an optimisation, never a requirement.
 */

import type { SeenStats } from "./port.js";

/** What a reader needs from a whole learned set, maintained as it changes. */
export interface SetSummary {
  /** Values in the set. */
  size: number;
  /** Observations (`n`) summed over the values. */
  total: number;
  /** The smallest `first` over the values; `+Infinity` for an empty set. */
  minFirst: number;
  /**
   * At most the smallest `last` over the values (exact after a scan or an eviction; a value's `last`
   * only grows in between, so the bound stays valid). When it is at or after a freshness cut-off,
   * every value of the set is fresh.
   */
  minLastBound: number;
}

/**
 * Sets at least this large get a summary from `applyToProfile`. A summary costs about as much
 * memory as a one-value set, and a scan of a small set costs well under a microsecond, so per-identity
 * sets (a few values each, millions of them) are left without one; population sets (thousands of
 * values, scanned on every login) are the ones it pays for.
 */
export const SUMMARY_MIN_SIZE = 64;

const summaries = new WeakMap<Readonly<Record<string, SeenStats>>, SetSummary>();

let readsEnabled = true;

/** The summary registered for `set`, if any (maintenance sees it whether or not reads are enabled). */
export function summaryOf(set: Readonly<Record<string, SeenStats>>): SetSummary | undefined {
  return summaries.get(set);
}

/** The summary a reader may answer from: `summaryOf`, unless summary reads are turned off. */
export function readableSummaryOf(set: Readonly<Record<string, SeenStats>>): SetSummary | undefined {
  return readsEnabled ? summaries.get(set) : undefined;
}

/**
 * Turns the readers' summary path on or off (on by default), so a benchmark or a test can compare it
 * with a full scan in one process. Summaries are maintained either way, so turning it back on is safe.
 */
export function setSummaryReads(enabled: boolean): void {
  readsEnabled = enabled;
}

/**
 * Computes the summary of `set` with one scan and registers it. Valid for a set that is either never
 * changed in place afterwards, or changed only through `applyToProfile` / `evictLeastRecent`.
 */
export function summarise(set: Readonly<Record<string, SeenStats>>): SetSummary {
  let size = 0;
  let total = 0;
  let minFirst = Number.POSITIVE_INFINITY;
  let minLast = Number.POSITIVE_INFINITY;
  for (const value in set) {
    const s = set[value] as SeenStats;
    size++;
    total += s.n;
    // `!(x >= min)` rather than `x < min`: a NaN time makes the bound NaN, and a NaN bound is never
    // at or after a cut-off, so such a set is always scanned rather than summarised wrongly.
    if (!(s.first >= minFirst)) minFirst = s.first;
    if (!(s.last >= minLast)) minLast = s.last;
  }
  const summary: SetSummary = { size, total, minFirst, minLastBound: minLast };
  summaries.set(set, summary);
  return summary;
}

/** A new value was added to the summarised set at `at` (`n = 1, first = last = at`). */
export function noteAdded(summary: SetSummary, at: number): void {
  summary.size += 1;
  summary.total += 1;
  if (!(at >= summary.minFirst)) summary.minFirst = at;
  if (!(at >= summary.minLastBound)) summary.minLastBound = at;
}

/**
 * A known value was seen again at `at`: one more observation, and its `first` may have moved back
 * (an out-of-order time). Its `last` only grows, so `minLastBound` stays a valid lower bound.
 */
export function noteSeenAgain(summary: SetSummary, at: number): void {
  summary.total += 1;
  if (at < summary.minFirst) summary.minFirst = at;
}

/**
 * Values were evicted: `removed` of them with `removedTotal` observations between them. The eviction
 * scan visited every value, so it passes the exact minima of what remains.
 */
export function noteEvicted(
  summary: SetSummary,
  removed: number,
  removedTotal: number,
  minFirst: number,
  minLast: number,
): void {
  summary.size -= removed;
  summary.total -= removedTotal;
  summary.minFirst = minFirst;
  summary.minLastBound = minLast;
}
