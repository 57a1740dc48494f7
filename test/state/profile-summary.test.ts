/** Learned-set summaries: maintained exactly by the profile operations, and readers answer the same from them as from a scan. */

import { afterEach, describe, expect, it } from "vitest";
import { FreshSet } from "../../src/detectors/learned-values.js";
import { MemoryStateStore } from "../../src/state/memory.js";
import { emptyProfile, type Profile, type SeenStats, type StateUpdate } from "../../src/state/port.js";
import { applyToProfile, evictLeastRecent } from "../../src/state/profile-ops.js";
import {
  type SetSummary,
  SUMMARY_MIN_SIZE,
  setSummaryReads,
  summarise,
  summaryOf,
} from "../../src/state/profile-summary.js";

type See = Extract<StateUpdate, { op: "see" }>;

const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

/** A small deterministic generator (mulberry32), so a failing sequence can be replayed by its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Random `see` updates on one field: a value pool larger than the cap (so values are evicted and
 * come back), times that mostly advance but often go back (out of order) or repeat (ties), and a cap
 * that sometimes drops (several evictions at once) or rises.
 */
function randomSees(seed: number, count: number): See[] {
  const r = rng(seed);
  const caps = [8, SUMMARY_MIN_SIZE - 1, SUMMARY_MIN_SIZE + 20, 150, 300];
  let cap = caps[Math.floor(r() * caps.length)] as number;
  let now = T0;
  const out: See[] = [];
  for (let i = 0; i < count; i++) {
    if (r() < 0.01) cap = caps[Math.floor(r() * caps.length)] as number;
    const roll = r();
    if (roll < 0.6) now += Math.floor(r() * 6 * HOUR);
    const at = roll < 0.8 ? now : roll < 0.95 ? now - Math.floor(r() * 400 * HOUR) : T0 - Math.floor(r() * HOUR);
    // A skewed pool: some values come back often, most rarely.
    const value = `v${Math.floor(r() ** 2 * cap * 3)}`;
    out.push({ op: "see", profile: "global:login", field: "login_ips", value, at, cap });
  }
  return out;
}

/** The profile operations as they were before summaries, as the reference for identical behaviour. */
function referenceApply(p: Profile, u: See): string[] {
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
    return [];
  }
  set[u.value] = { n: 1, first: u.at, last: u.at };
  const keys = Object.keys(set);
  if (keys.length <= u.cap) return [];
  // Least recently seen first; ties by UTF-8 bytes, the order of equal scores in a Redis sorted set.
  const byAge = Object.entries(set).sort(
    (a, b) => a[1].last - b[1].last || Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])),
  );
  const victims = byAge.slice(0, keys.length - u.cap).map(([k]) => k);
  for (const v of victims) delete set[v];
  return victims;
}

/** The summary recomputed from scratch, with the exact smallest `last`. */
function scanned(set: Record<string, SeenStats>): SetSummary & { minLast: number } {
  let size = 0;
  let total = 0;
  let minFirst = Number.POSITIVE_INFINITY;
  let minLast = Number.POSITIVE_INFINITY;
  for (const s of Object.values(set)) {
    size++;
    total += s.n;
    minFirst = Math.min(minFirst, s.first);
    minLast = Math.min(minLast, s.last);
  }
  return { size, total, minFirst, minLastBound: minLast, minLast };
}

/** Cut-offs around the set's own times: before, at and after its oldest last-seen, and in between. */
function cutOffs(set: Record<string, SeenStats>): number[] {
  const lasts = Object.values(set)
    .map((s) => s.last)
    .sort((a, b) => a - b);
  const at = (q: number) => lasts[Math.min(lasts.length - 1, Math.floor(q * lasts.length))] ?? T0;
  const min = at(0);
  return [Number.NEGATIVE_INFINITY, min - 1, min, min + 1, at(0.1), at(0.5), at(0.99), (lasts.at(-1) ?? T0) + 1];
}

function expectSameFresh(set: Record<string, SeenStats>, since: number): void {
  const fromSummary = new FreshSet(set, since);
  // A shallow copy has no summary, so it is scanned.
  const copy = { ...set };
  expect(summaryOf(copy)).toBeUndefined();
  const fromScan = new FreshSet(copy, since);
  expect({ size: fromSummary.size, total: fromSummary.total, since: fromSummary.since }).toEqual({
    size: fromScan.size,
    total: fromScan.total,
    since: fromScan.since,
  });
}

afterEach(() => setSummaryReads(true));

describe("learned-set summaries", () => {
  it("leave profile operations unchanged and stay exact over random sequences of see (caps, evictions, out-of-order times)", () => {
    let summaryAnswers = 0;
    let scans = 0;
    for (let seed = 1; seed <= 24; seed++) {
      const live = emptyProfile();
      const reference = emptyProfile();
      for (const [i, u] of randomSees(seed, 1_200).entries()) {
        const evicted = applyToProfile(live, u);
        const expected = referenceApply(reference, u);
        if (evicted.join() !== expected.join()) expect({ seed, step: i, evicted }).toEqual({ seed, step: i, expected });
        const set = live.sets.login_ips as Record<string, SeenStats>;
        const summary = summaryOf(set);
        const size = Object.keys(set).length;
        if (summary === undefined) {
          // Only small sets go without one.
          if (size >= SUMMARY_MIN_SIZE) expect({ seed, step: i, size }).toBe("a summary");
          continue;
        }
        // Plain comparisons in the loop (tens of thousands of steps), one expectation per step.
        const exact = scanned(set);
        const ok =
          summary.size === exact.size &&
          summary.total === exact.total &&
          summary.minFirst === exact.minFirst &&
          summary.minLastBound <= exact.minLast;
        if (!ok) expect({ seed, step: i, summary }).toEqual({ seed, step: i, summary: exact });
        if (i % 40 === 0) {
          for (const since of cutOffs(set)) {
            expectSameFresh(set, since);
            if (summary.minLastBound >= since) summaryAnswers++;
            else scans++;
          }
        }
      }
      // Key order and stats too: eviction ties depend on the order.
      expect(JSON.stringify(live)).toBe(JSON.stringify(reference));
    }
    // Both paths of FreshSet were exercised.
    expect(summaryAnswers).toBeGreaterThan(100);
    expect(scans).toBeGreaterThan(100);
  });

  it("are kept in step by the memory adapter's writes", async () => {
    const store = new MemoryStateStore();
    const updates = randomSees(99, 3_000);
    for (let i = 0; i < updates.length; i += 10) store.writeSync(updates.slice(i, i + 10), T0);
    const read = await store.read({ profiles: ["global:login"], counters: [], claims: [] }, T0);
    const set = read.profiles.get("global:login")?.sets.login_ips as Record<string, SeenStats>;
    const summary = summaryOf(set);
    expect(summary).toBeDefined();
    const exact = scanned(set);
    expect({ size: summary?.size, total: summary?.total, minFirst: summary?.minFirst }).toEqual({
      size: exact.size,
      total: exact.total,
      minFirst: exact.minFirst,
    });
    for (const since of cutOffs(set)) expectSameFresh(set, since);
  });

  it("are registered when a set reaches SUMMARY_MIN_SIZE values, not before", () => {
    const p = emptyProfile();
    for (let i = 0; i < SUMMARY_MIN_SIZE - 1; i++) {
      applyToProfile(p, { op: "see", profile: "g", field: "f", value: `v${i}`, at: T0 + i, cap: 1_000 });
    }
    const set = p.sets.f as Record<string, SeenStats>;
    expect(summaryOf(set)).toBeUndefined();
    applyToProfile(p, { op: "see", profile: "g", field: "f", value: "last", at: T0 - 5, cap: 1_000 });
    expect(summaryOf(set)).toEqual({
      size: SUMMARY_MIN_SIZE,
      total: SUMMARY_MIN_SIZE,
      minFirst: T0 - 5,
      minLastBound: T0 - 5,
    });
  });

  it("are corrected exactly when values are evicted, one or several at once", () => {
    const set: Record<string, SeenStats> = {
      a: { n: 3, first: T0 - 10, last: T0 + 5 },
      b: { n: 1, first: T0 - 30, last: T0 + 1 },
      c: { n: 2, first: T0 - 20, last: T0 + 1 },
      d: { n: 5, first: T0 + 2, last: T0 + 9 },
    };
    summarise(set);
    // The oldest last-seen is a tie (b, c): b goes first, and with it the smallest first-seen.
    expect(evictLeastRecent(set, 1)).toEqual(["b"]);
    expect(summaryOf(set)).toEqual({ size: 3, total: 10, minFirst: T0 - 20, minLastBound: T0 + 1 });
    expect(evictLeastRecent(set, 2)).toEqual(["c", "a"]);
    expect(summaryOf(set)).toEqual({ size: 1, total: 5, minFirst: T0 + 2, minLastBound: T0 + 9 });
  });

  it("answer FreshSet without a scan when every value is fresh, and only when summary reads are on", () => {
    const set: Record<string, SeenStats> = {
      a: { n: 4, first: T0, last: T0 + 10 },
      b: { n: 2, first: T0 + 3, last: T0 + 20 },
    };
    summarise(set);
    // Changing the set behind the summary's back (which no code path does) shows which path answered.
    set.c = { n: 7, first: T0 - 1, last: T0 + 30 };
    const fresh = new FreshSet(set, T0);
    expect([fresh.size, fresh.total, fresh.since]).toEqual([2, 6, T0]);
    // A cut-off after the oldest last-seen bound: scanned, so c counts.
    const later = new FreshSet(set, T0 + 15);
    expect([later.size, later.total, later.since]).toEqual([2, 9, T0 - 1]);
    setSummaryReads(false);
    const off = new FreshSet(set, T0);
    expect([off.size, off.total, off.since]).toEqual([3, 13, T0 - 1]);
  });

  it("read an empty summarised set as empty", () => {
    const set: Record<string, SeenStats> = {};
    summarise(set);
    const fresh = new FreshSet(set, T0);
    expect([fresh.size, fresh.total, fresh.since]).toEqual([0, 0, undefined]);
  });

  it("leave a set holding a time that is not a number to the scan", () => {
    const p = emptyProfile();
    for (let i = 0; i < SUMMARY_MIN_SIZE + 5; i++) {
      const at = i === 3 ? Number.NaN : T0 + i;
      applyToProfile(p, { op: "see", profile: "g", field: "f", value: `v${i}`, at, cap: SUMMARY_MIN_SIZE });
    }
    const set = p.sets.f as Record<string, SeenStats>;
    expect(Number.isNaN(summaryOf(set)?.minLastBound)).toBe(true);
    for (const since of [Number.NEGATIVE_INFINITY, T0, T0 + 10]) expectSameFresh(set, since);
  });
});
