import { describe, expect, it } from "vitest";
import { lateralMovementDetector as detector } from "../../src/detectors/lateral-movement.js";
import type { AccessRequest } from "../../src/model/request.js";
import { MemoryStateStore } from "../../src/state/memory.js";
import { runStep } from "./harness.js";

const T0 = Date.parse("2026-11-20T10:00:00Z");
const SUBJECT = { type: "service", id: "reporting" };

function request(id: string, action = "read"): AccessRequest {
  return { subject: SUBJECT, action: { name: action }, resource: { type: "db", id } };
}

/** An identity that has been trusted on five resources. */
async function withKnownResources(): Promise<MemoryStateStore> {
  const store = new MemoryStateStore();
  for (let i = 0; i < 5; i++) await runStep(detector, store, { request: request(`known-${i}`), now: T0 - 3_600_000 });
  return store;
}

describe("lateral_movement", () => {
  it("fires on the new resource after max_new_resources others within the window", async () => {
    const store = await withKnownResources();
    for (let i = 0; i < 10; i++) {
      const r = await runStep(detector, store, { request: request(`new-${i}`), now: T0 + i * 10_000, trusted: false });
      expect(r.finding).toBeUndefined();
    }
    const r = await runStep(detector, store, { request: request("new-10"), now: T0 + 100_000, trusted: false });
    expect(r.finding?.code).toBe("lateral_movement");
    expect(r.finding?.severity).toBe("high");
    expect(r.finding?.points).toBe(45);
    expect(r.finding?.evidence).toEqual({
      resource: "db:new-10",
      new_resources_in_window: 11,
      max_new_resources: 10,
      window_seconds: 600,
      known_resources: 5,
    });
  });

  it("does not count known resources or repeated touches of the same new one", async () => {
    const store = await withKnownResources();
    for (let i = 0; i < 30; i++) {
      await runStep(detector, store, { request: request(`known-${i % 5}`), now: T0 + i * 1000, trusted: false });
      await runStep(detector, store, { request: request(`new-${i % 3}`), now: T0 + i * 1000, trusted: false });
    }
    const r = await runStep(detector, store, { request: request("new-99"), now: T0 + 31_000, trusted: false });
    expect(r.finding).toBeUndefined();
  });

  it("is silent when the new resources are spread beyond the window", async () => {
    const store = await withKnownResources();
    for (let i = 0; i < 20; i++) {
      const r = await runStep(detector, store, { request: request(`new-${i}`), now: T0 + i * 120_000, trusted: false });
      expect(r.finding).toBeUndefined();
    }
  });

  it("cold start: an identity with fewer than min_known_resources stays silent", async () => {
    const store = new MemoryStateStore();
    for (let i = 0; i < 25; i++) {
      const r = await runStep(detector, store, { request: request(`r-${i}`), now: T0 + i * 1000, trusted: false });
      expect(r.finding).toBeUndefined();
    }
  });

  it("does not learn resources from untrusted requests", async () => {
    const store = await withKnownResources();
    await runStep(detector, store, { request: request("secret-db"), now: T0, trusted: false });
    const snap = await store.read({ profiles: ["service:reporting"], counters: [], claims: [] }, T0);
    expect(Object.keys(snap.profiles.get("service:reporting")?.sets.resources ?? {})).not.toContain("db:secret-db");
    await runStep(detector, store, { request: request("secret-db"), now: T0 + 1 });
    const after = await store.read({ profiles: ["service:reporting"], counters: [], claims: [] }, T0);
    expect(Object.keys(after.profiles.get("service:reporting")?.sets.resources ?? {})).toContain("db:secret-db");
  });

  it("honours window_seconds and max_new_resources", async () => {
    const store = await withKnownResources();
    const params = { max_new_resources: 3, window_seconds: 60 };
    for (let i = 0; i < 3; i++)
      await runStep(detector, store, { request: request(`n-${i}`), now: T0 + i, params, trusted: false });
    const r = await runStep(detector, store, { request: request("n-3"), now: T0 + 10, params, trusted: false });
    expect(r.finding?.evidence.new_resources_in_window).toBe(4);
    expect(r.finding?.evidence.window_seconds).toBe(60);
  });

  it("does not apply to logins or to a resource without an id", async () => {
    const store = new MemoryStateStore();
    expect((await runStep(detector, store, { request: request("x", "login"), now: T0 })).applies).toBe(false);
    expect((await runStep(detector, store, { request: request(""), now: T0 })).applies).toBe(false);
  });
});
