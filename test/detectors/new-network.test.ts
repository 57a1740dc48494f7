import { beforeEach, describe, expect, it } from "vitest";
import { newNetworkDetector as detector } from "../../src/detectors/new-network.js";
import type { Enrichment } from "../../src/enrich/enrichment.js";
import { MemoryStateStore } from "../../src/state/memory.js";
import { runStep } from "./harness.js";
import { access, DAY, failedLogin, login, OSLO, SYDNEY, T0 } from "./people-requests.js";

const OSLO_OTHER_PREFIX: Enrichment = {
  ...OSLO,
  ip: "192.0.2.20",
  network: { asn: 2119, org: "Telenor", prefix: "192.0.2.0/24", hosting: false, anonymizer: false },
};

describe("new_network", () => {
  let store: MemoryStateStore;
  beforeEach(() => {
    store = new MemoryStateStore();
  });

  it("stays silent on cold start and learns both the ASN and the prefix", async () => {
    const r = await runStep(detector, store, { request: login("alice"), now: T0, enrichment: OSLO });
    expect(r.finding).toBeUndefined();
    expect(r.learn.map((u) => (u.op === "see" ? `${u.field}=${u.value}` : u.op))).toEqual([
      "asns=AS2119",
      "prefixes=198.51.100.0/24",
    ]);
  });

  it("flags a new ASN", async () => {
    await runStep(detector, store, { request: login("alice"), now: T0, enrichment: OSLO });
    const r = await runStep(detector, store, { request: access("alice"), now: T0 + DAY, enrichment: SYDNEY });
    expect(r.finding).toMatchObject({ code: "new_network", severity: "low", points: 15 });
    expect(r.finding?.evidence).toMatchObject({ level: "asn", asn: "AS1221", org: "Telstra", known_asns: 1 });
  });

  it("flags a new /24 inside a known ASN with fewer points", async () => {
    await runStep(detector, store, { request: login("alice"), now: T0, enrichment: OSLO });
    const r = await runStep(detector, store, {
      request: access("alice"),
      now: T0 + DAY,
      enrichment: OSLO_OTHER_PREFIX,
    });
    expect(r.finding).toMatchObject({ code: "new_network", severity: "info", points: 5 });
    expect(r.finding?.evidence).toMatchObject({ level: "prefix", prefix: "192.0.2.0/24", known_prefixes: 1 });
    const same = await runStep(detector, store, { request: access("alice"), now: T0 + DAY + 1, enrichment: OSLO });
    expect(same.finding).toBeUndefined();
  });

  it("does not learn from untrusted requests or failed logins", async () => {
    await runStep(detector, store, { request: login("alice"), now: T0, enrichment: OSLO });
    await runStep(detector, store, { request: login("alice"), now: T0 + 1, enrichment: SYDNEY, trusted: false });
    const failed = await runStep(detector, store, { request: failedLogin("alice"), now: T0 + 2, enrichment: SYDNEY });
    expect(failed.learn).toHaveLength(0);
    const r = await runStep(detector, store, { request: access("alice"), now: T0 + 3, enrichment: SYDNEY });
    expect(r.finding?.evidence.level).toBe("asn");
  });

  it("derives the prefix from the address when enrichment has no network facts", async () => {
    await runStep(detector, store, { request: login("alice"), now: T0, enrichment: OSLO });
    const r = await runStep(detector, store, {
      request: access("alice"),
      now: T0 + 1,
      enrichment: { ip: "192.0.2.1" },
    });
    expect(r.finding?.evidence).toMatchObject({ level: "prefix", asn: null, prefix: "192.0.2.0/24" });
  });

  it("says nothing without an address or network facts, or with an invalid address", async () => {
    await runStep(detector, store, { request: login("alice"), now: T0, enrichment: OSLO });
    const none = await runStep(detector, store, { request: access("alice"), now: T0 + 1 });
    expect(none.finding).toBeUndefined();
    expect(none.learn).toHaveLength(0);
    const bad = await runStep(detector, store, { request: access("alice", { ip: "not an address" }), now: T0 + 2 });
    expect(bad.finding).toBeUndefined();
    expect(bad.learn).toHaveLength(0);
  });
});
