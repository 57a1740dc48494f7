import { beforeEach, describe, expect, it } from "vitest";
import { newCountryDetector as detector } from "../../src/detectors/new-country.js";
import { MemoryStateStore } from "../../src/state/memory.js";
import { runStep } from "./harness.js";
import { access, DAY, failedLogin, login, OSLO, SYDNEY, T0 } from "./people-requests.js";

describe("new_country", () => {
  let store: MemoryStateStore;
  beforeEach(() => {
    store = new MemoryStateStore();
  });

  it("stays silent on cold start and learns the first country", async () => {
    const first = await runStep(detector, store, { request: login("alice"), now: T0, enrichment: OSLO });
    expect(first.finding).toBeUndefined();
    expect(first.learn).toEqual([
      { op: "see", profile: "user:alice", field: "countries", value: "NO", at: T0, cap: 30 },
    ]);
  });

  it("flags a country not seen before, with the known countries as evidence", async () => {
    await runStep(detector, store, { request: login("alice"), now: T0, enrichment: OSLO });
    const r = await runStep(detector, store, { request: access("alice"), now: T0 + DAY, enrichment: SYDNEY });
    expect(r.finding).toMatchObject({ code: "new_country", severity: "medium", points: 25 });
    expect(r.finding?.evidence).toEqual({ country: "AU", known_countries: ["NO"], geo_source: "database" });
    expect(r.finding?.message).toBe('request from "AU", a country not seen for this identity');
  });

  it("does not flag a known country, whatever its letter case", async () => {
    await runStep(detector, store, { request: login("alice"), now: T0, enrichment: OSLO });
    const r = await runStep(detector, store, {
      request: access("alice"),
      now: T0 + DAY,
      enrichment: { geo: { country: "no", source: "pep" } },
    });
    expect(r.finding).toBeUndefined();
  });

  it("does not learn from an untrusted request or a failed login", async () => {
    await runStep(detector, store, { request: login("alice"), now: T0, enrichment: OSLO });
    await runStep(detector, store, { request: login("alice"), now: T0 + 1, enrichment: SYDNEY, trusted: false });
    const failed = await runStep(detector, store, { request: failedLogin("alice"), now: T0 + 2, enrichment: SYDNEY });
    expect(failed.learn).toHaveLength(0);
    const r = await runStep(detector, store, { request: access("alice"), now: T0 + 3, enrichment: SYDNEY });
    expect(r.finding?.code).toBe("new_country");
  });

  it("uses a custom points parameter and says nothing without geo", async () => {
    await runStep(detector, store, { request: login("alice"), now: T0, enrichment: OSLO });
    const r = await runStep(detector, store, {
      request: access("alice"),
      now: T0 + 1,
      enrichment: SYDNEY,
      params: { points: 33 },
    });
    expect(r.finding?.points).toBe(33);
    const none = await runStep(detector, store, { request: access("alice"), now: T0 + 2 });
    expect(none.finding).toBeUndefined();
    expect(none.learn).toHaveLength(0);
  });
});
