import { describe, expect, it } from "vitest";
import { ipReputationDetector as detector } from "../../src/detectors/ip-reputation.js";
import { MemoryStateStore } from "../../src/state/memory.js";
import { runStep } from "./harness.js";
import { login, T0 } from "./people-requests.js";

describe("ip_reputation", () => {
  it("flags a listed address and names the lists", async () => {
    const r = await runStep(detector, new MemoryStateStore(), {
      request: login("alice"),
      now: T0,
      enrichment: { ip: "192.0.2.66", reputation: { listed: true, lists: ["firehol_level1", "tor-exits"] } },
    });
    expect(r.finding).toMatchObject({ code: "ip_reputation", severity: "high", points: 40 });
    expect(r.finding?.evidence).toEqual({ ip: "192.0.2.66", lists: ["firehol_level1", "tor-exits"] });
    expect(r.finding?.message).toBe('source address is listed on "firehol_level1", "tor-exits"');
  });

  it("is silent for an unlisted address or without reputation facts", async () => {
    const store = new MemoryStateStore();
    const clean = await runStep(detector, store, {
      request: login("alice"),
      now: T0,
      enrichment: { ip: "192.0.2.1", reputation: { listed: false, lists: [] } },
    });
    expect(clean.finding).toBeUndefined();
    expect((await runStep(detector, store, { request: login("alice"), now: T0 })).finding).toBeUndefined();
  });

  it("still explains a listing with no list names", async () => {
    const r = await runStep(detector, new MemoryStateStore(), {
      request: login("alice", { ip: "192.0.2.7" }),
      now: T0,
      enrichment: { reputation: { listed: true, lists: [] } },
    });
    expect(r.finding?.message).toBe("source address is on an ip reputation list");
    expect(r.finding?.evidence.ip).toBe("192.0.2.7");
  });
});
