/** Reads and teaches a profile's learned sets, with decay: a value unseen for too long counts as unknown. */

import type { Profile, SeenStats, StateUpdate } from "../state/port.js";
import { readableSummaryOf } from "../state/profile-summary.js";
import { type DetectorContext, numParam } from "./detector.js";

/** History older than about six months no longer describes the identity (Wiefling et al., 2022). */
export const DEFAULT_MAX_AGE_DAYS = 180;

const DAY_MS = 86_400_000;

/** The oldest `last` time that still counts as known, from the `max_age_days` parameter. */
export function freshSince(ctx: DetectorContext): number {
  return ctx.now - numParam(ctx, "max_age_days", DEFAULT_MAX_AGE_DAYS) * DAY_MS;
}

/** The values of a learned set seen at or after `since`. */
export function freshValues(profile: Profile, field: string, since: number): Map<string, SeenStats> {
  const out = new Map<string, SeenStats>();
  const set = profile.sets[field];
  if (!set) return out;
  for (const value in set) {
    const stats = set[value];
    if (stats !== undefined && stats.last >= since) out.set(value, stats);
  }
  return out;
}

/**
 * The fresh part of a learned set summarised without copying it: population sets hold thousands of
 * values, and most callers only need the totals and one value's count. When the set has a summary
 * (src/state/profile-summary.ts) whose oldest last-seen bound is still fresh, every value is fresh
 * and the totals come from it in O(1); otherwise one pass over the set, with the same result.
 */
export class FreshSet {
  /** Fresh values on record. */
  readonly size: number;
  /** Total observations over the fresh values. */
  readonly total: number;
  /** The earliest first-seen time over the fresh values. */
  readonly since: number | undefined;

  constructor(
    private readonly set: Readonly<Record<string, SeenStats>> | undefined,
    private readonly freshFrom: number,
  ) {
    let size = 0;
    let total = 0;
    let first: number | undefined;
    const summary = set ? readableSummaryOf(set) : undefined;
    if (summary !== undefined && summary.minLastBound >= freshFrom) {
      size = summary.size;
      total = summary.total;
      if (size > 0) first = summary.minFirst;
    } else if (set) {
      for (const value in set) {
        const stats = set[value];
        if (stats === undefined || stats.last < freshFrom) continue;
        size++;
        total += stats.n;
        if (first === undefined || stats.first < first) first = stats.first;
      }
    }
    this.size = size;
    this.total = total;
    this.since = first;
  }

  /** The stats of `value` when it is fresh. */
  get(value: string): SeenStats | undefined {
    const stats = this.set?.[value];
    return stats !== undefined && stats.last >= this.freshFrom ? stats : undefined;
  }

  has(value: string): boolean {
    return this.get(value) !== undefined;
  }

  /** How often a fresh `value` was seen, 0 when it is unknown or stale. */
  count(value: string): number {
    return this.get(value)?.n ?? 0;
  }
}

/** The fresh part of `profile.sets[field]`, see `FreshSet`. */
export function freshSet(profile: Profile, field: string, since: number): FreshSet {
  return new FreshSet(profile.sets[field], since);
}

/** Whether `value` is in the learned set and was seen at or after `since`. */
export function isKnown(profile: Profile, field: string, value: string, since: number): boolean {
  const stats = profile.sets[field]?.[value];
  return stats !== undefined && stats.last >= since;
}

/** Whether the profile holds anything learned at all: the test for a never-seen identity. */
export function hasLearnedAnything(profile: Profile): boolean {
  for (const set of Object.values(profile.sets)) if (Object.keys(set).length > 0) return true;
  return Object.keys(profile.values).length > 0;
}

/** Total observations and the earliest first-seen time over the fresh values of a set. */
export function historyOf(values: ReadonlyMap<string, SeenStats>): { observations: number; since: number | undefined } {
  let observations = 0;
  let since: number | undefined;
  for (const s of values.values()) {
    observations += s.n;
    if (since === undefined || s.first < since) since = s.first;
  }
  return { observations, since };
}

/** A `see` update for the subject's profile, capped by the detector's `cap` parameter. */
export function seeUpdate(ctx: DetectorContext, field: string, value: string, defaultCap: number): StateUpdate {
  return {
    op: "see",
    profile: ctx.subjectKey,
    field,
    value,
    at: ctx.now,
    cap: Math.max(1, Math.floor(numParam(ctx, "cap", defaultCap))),
  };
}
