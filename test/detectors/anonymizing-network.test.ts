import { describe, expect, it } from "vitest";
import { anonymizingNetworkDetector as detector } from "../../src/detectors/anonymizing-network.js";
import { MemoryStateStore } from "../../src/state/memory.js";
import { runStep } from "./harness.js";
import { access, login, OSLO, T0 } from "./people-requests.js";

const net = (hosting: boolean, anonymizer: boolean) => ({
  ip: "203.0.113.9",
  network: { asn: 64500, org: "Example Hosting", hosting, anonymizer },
});

describe("anonymizing_network", () => {
  it("flags an anonymiser with more points than a hosting network", async () => {
    const store = new MemoryStateStore();
    const anon = await runStep(detector, store, { request: login("alice"), now: T0, enrichment: net(true, true) });
    expect(anon.finding).toMatchObject({ code: "anonymizing_network", severity: "medium", points: 30 });
    expect(anon.finding?.evidence).toEqual({
      kind: "anonymizer",
      ip: "203.0.113.9",
      asn: 64500,
      org: "Example Hosting",
      anonymizer: true,
      hosting: true,
    });
    const hosting = await runStep(detector, store, { request: access("alice"), now: T0, enrichment: net(true, false) });
    expect(hosting.finding).toMatchObject({ severity: "low", points: 15 });
    expect(hosting.finding?.evidence.kind).toBe("hosting");
    expect(hosting.finding?.points).toBeLessThan(anon.finding?.points ?? 0);
  });

  it("is silent for a residential network or without network facts, and keeps no state", async () => {
    const store = new MemoryStateStore();
    const home = await runStep(detector, store, { request: login("alice"), now: T0, enrichment: OSLO });
    expect(home.finding).toBeUndefined();
    expect([...home.observe, ...home.learn]).toHaveLength(0);
    expect((await runStep(detector, store, { request: login("alice"), now: T0 })).finding).toBeUndefined();
  });

  it("takes points from the policy", async () => {
    const r = await runStep(detector, new MemoryStateStore(), {
      request: login("alice"),
      now: T0,
      enrichment: net(true, false),
      params: { hosting_points: 7 },
    });
    expect(r.finding?.points).toBe(7);
  });
});
