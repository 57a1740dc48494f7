import { describe, expect, it } from "vitest";
import { unusualNetworkSegmentDetector as detector } from "../../src/detectors/unusual-network-segment.js";
import type { AccessRequest, RequestContext } from "../../src/model/request.js";
import { MemoryStateStore } from "../../src/state/memory.js";
import { runStep } from "./harness.js";

const T0 = Date.parse("2026-11-20T10:00:00Z");
const DAY = 86_400_000;

function request(context: RequestContext, type = "service"): AccessRequest {
  return {
    subject: { type, id: "payments" },
    action: { name: "read" },
    resource: { type: "db", id: "ledger" },
    context,
  };
}

const segment = (network_segment: string, ip?: string): RequestContext => ({
  workload: { network_segment },
  ...(ip ? { ip } : {}),
});

describe("unusual_network_segment", () => {
  it("flags a segment an established machine identity has not used", async () => {
    const store = new MemoryStateStore();
    await runStep(detector, store, { request: request(segment("prod/app")), now: T0 });
    const r = await runStep(detector, store, { request: request(segment("corp/laptops")), now: T0 + 1000 });
    expect(r.finding?.code).toBe("unusual_network_segment");
    expect(r.finding?.severity).toBe("medium");
    expect(r.finding?.points).toBe(35);
    expect(r.finding?.evidence).toEqual({
      segment: "corp/laptops",
      source: "network_segment",
      known_segments: 1,
      known_examples: ["prod/app"],
    });
  });

  it("is silent for a learned segment", async () => {
    const store = new MemoryStateStore();
    await runStep(detector, store, { request: request(segment("prod/app")), now: T0 });
    expect(
      (await runStep(detector, store, { request: request(segment("prod/app")), now: T0 + DAY })).finding,
    ).toBeUndefined();
  });

  it("falls back to the source /24, and recognises it when learned alongside a segment name", async () => {
    const store = new MemoryStateStore();
    await runStep(detector, store, { request: request(segment("prod/app", "10.20.30.4")), now: T0 });
    const sameNet = await runStep(detector, store, { request: request({ ip: "10.20.30.99" }), now: T0 + 1 });
    expect(sameNet.finding).toBeUndefined();
    const r = await runStep(detector, store, { request: request({ ip: "10.99.0.5" }), now: T0 + 2 });
    expect(r.finding?.evidence).toMatchObject({ segment: "10.99.0.0/24", source: "ip_prefix" });
  });

  it("prefers the enricher's prefix when there is one", async () => {
    const store = new MemoryStateStore();
    const enrichment = { ip: "10.20.30.4", network: { prefix: "10.20.0.0/16", hosting: false, anonymizer: false } };
    await runStep(detector, store, { request: request({ ip: "10.20.30.4" }), enrichment, now: T0 });
    const r = await runStep(detector, store, {
      request: request({ ip: "10.20.99.4" }),
      now: T0 + 1,
      enrichment: { ...enrichment, ip: "10.20.99.4" },
    });
    expect(r.finding).toBeUndefined();
  });

  it("cold start: a machine identity's first segment is silent", async () => {
    const r = await runStep(detector, new MemoryStateStore(), { request: request(segment("anywhere")), now: T0 });
    expect(r.applies).toBe(true);
    expect(r.finding).toBeUndefined();
  });

  it("does not learn from an untrusted request", async () => {
    const store = new MemoryStateStore();
    await runStep(detector, store, { request: request(segment("prod/app")), now: T0 });
    await runStep(detector, store, { request: request(segment("attacker/vpn")), now: T0 + 1, trusted: false });
    const r = await runStep(detector, store, { request: request(segment("attacker/vpn")), now: T0 + 2 });
    expect(r.finding?.evidence.segment).toBe("attacker/vpn");
  });

  it("forgets segments unused for max_age_days", async () => {
    const store = new MemoryStateStore();
    await runStep(detector, store, { request: request(segment("prod/app")), now: T0 });
    await runStep(detector, store, { request: request(segment("prod/batch")), now: T0 + 200 * DAY });
    const r = await runStep(detector, store, { request: request(segment("prod/app")), now: T0 + 201 * DAY });
    expect(r.finding?.evidence).toMatchObject({ segment: "prod/app", known_segments: 1 });
  });

  it("never learns from a failed login", async () => {
    const store = new MemoryStateStore();
    await runStep(detector, store, { request: request(segment("prod/app")), now: T0 });
    const failed: AccessRequest = {
      ...request({ ...segment("guest/wifi"), authn: { result: "failure" } }),
      action: { name: "login" },
    };
    expect((await runStep(detector, store, { request: failed, now: T0 + 1 })).learn).toEqual([]);
    expect(
      (await runStep(detector, store, { request: request(segment("guest/wifi")), now: T0 + 2 })).finding,
    ).toBeDefined();
  });

  it("does not apply to people or without a segment or a valid address", async () => {
    const store = new MemoryStateStore();
    expect((await runStep(detector, store, { request: request(segment("x"), "user"), now: T0 })).applies).toBe(false);
    expect((await runStep(detector, store, { request: request({}), now: T0 })).applies).toBe(false);
    expect((await runStep(detector, store, { request: request({ ip: "not-an-ip" }), now: T0 })).applies).toBe(false);
    expect(
      (await runStep(detector, store, { request: request({ workload: { network_segment: "" } }), now: T0 })).applies,
    ).toBe(false);
  });
});
