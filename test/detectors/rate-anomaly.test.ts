import { describe, expect, it } from "vitest";
import { rateAnomalyDetector as detector } from "../../src/detectors/rate-anomaly.js";
import type { AccessRequest } from "../../src/model/request.js";
import { MemoryStateStore } from "../../src/state/memory.js";
import { type HarnessResult, runStep } from "./harness.js";

const T0 = Date.parse("2026-11-20T10:00:00Z");
const MINUTE = 60_000;
const KEY = "api_key:partner-7";
const REQUEST: AccessRequest = {
  subject: { type: "api_key", id: "partner-7" },
  action: { name: "read" },
  resource: { type: "api", id: "/orders" },
};

/** Steady traffic: `perMinute` evenly spaced trusted requests for `minutes`; returns the next free time. */
async function steady(store: MemoryStateStore, perMinute: number, minutes: number, from = T0): Promise<number> {
  const gap = MINUTE / perMinute;
  let t = from;
  for (let i = 0; i < perMinute * minutes; i++) {
    const r = await runStep(detector, store, { request: REQUEST, now: t });
    expect(r.finding).toBeUndefined();
    t += gap;
  }
  return t;
}

/** `n` untrusted requests 100 ms apart; returns every result. */
async function burst(store: MemoryStateStore, n: number, from: number): Promise<HarnessResult[]> {
  const out: HarnessResult[] = [];
  for (let i = 0; i < n; i++)
    out.push(await runStep(detector, store, { request: REQUEST, now: from + i * 100, trusted: false }));
  return out;
}

async function baseline(store: MemoryStateStore): Promise<{ mean: number; n: number }> {
  const snap = await store.read({ profiles: [KEY], counters: [], claims: [] }, T0);
  return snap.profiles.get(KEY)?.values.rate_ewma as { mean: number; n: number };
}

describe("rate_anomaly", () => {
  it("fires when the rate passes multiplier × baseline, then high at high_multiplier ×", async () => {
    const store = new MemoryStateStore();
    const t = await steady(store, 10, 70);
    const b = await baseline(store);
    expect(b.mean).toBeGreaterThan(8);
    expect(b.mean).toBeLessThan(13);
    const results = await burst(store, 300, t + 5 * MINUTE);
    const first = results.find((r) => r.finding);
    expect(first?.finding?.code).toBe("rate_anomaly");
    expect(first?.finding?.severity).toBe("medium");
    expect(first?.finding?.points).toBe(35);
    const ev = first?.finding?.evidence ?? {};
    expect(ev.requests_last_minute as number).toBeGreaterThan(5 * (ev.baseline_per_minute as number));
    expect(ev.requests_last_minute as number).toBeGreaterThanOrEqual(30);
    expect(ev.multiplier).toBe(5);
    const high = results.find((r) => r.finding?.severity === "high");
    expect(high?.finding?.points).toBe(60);
    expect(high?.finding?.evidence.requests_last_minute as number).toBeGreaterThan(20 * b.mean);
  });

  it("is silent for traffic at the learned level", async () => {
    const store = new MemoryStateStore();
    const t = await steady(store, 10, 70);
    await steady(store, 12, 30, t);
  });

  it("never fires below min_rate, however low the baseline", async () => {
    const store = new MemoryStateStore();
    const t = await steady(store, 1, 70);
    const results = await burst(store, 25, t + MINUTE);
    expect(results.filter((r) => r.finding)).toEqual([]);
  });

  it("cold start: silent until min_samples and min_history_minutes are reached", async () => {
    const store = new MemoryStateStore();
    expect((await burst(store, 200, T0)).filter((r) => r.finding)).toEqual([]);
    const young = new MemoryStateStore();
    const t = await steady(young, 10, 20); // 200 samples, but only 20 minutes of history
    expect((await burst(young, 200, t + MINUTE)).filter((r) => r.finding)).toEqual([]);
  });

  it("an untrusted burst does not move the baseline", async () => {
    const store = new MemoryStateStore();
    const t = await steady(store, 10, 70);
    const before = await baseline(store);
    const results = await burst(store, 100, t + MINUTE);
    expect(results.every((r) => r.observe.length === 1 && r.learn.length === 1)).toBe(true);
    expect(await baseline(store)).toEqual(before);
  });

  it("counts failed logins but never learns a baseline from them", async () => {
    const store = new MemoryStateStore();
    const failed: AccessRequest = { ...REQUEST, action: { name: "login" }, context: { authn: { result: "failure" } } };
    const r = await runStep(detector, store, { request: failed, now: T0 });
    expect(r.observe).toHaveLength(1);
    expect(r.learn).toEqual([]);
  });

  it("ignores a malformed baseline instead of throwing", async () => {
    const store = new MemoryStateStore();
    await store.write([{ op: "set", profile: KEY, field: "rate_ewma", value: "fast" }], T0);
    const results = await burst(store, 50, T0);
    expect(results.filter((r) => r.finding)).toEqual([]);
    const r = await runStep(detector, store, { request: REQUEST, now: T0 + 10_000 });
    expect(r.learn[0]).toMatchObject({ op: "set", field: "rate_ewma", value: { n: 1 } });
  });
});
