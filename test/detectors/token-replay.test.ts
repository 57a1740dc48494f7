import { describe, expect, it } from "vitest";
import { tokenReplayDetector as detector } from "../../src/detectors/token-replay.js";
import type { Enrichment } from "../../src/enrich/enrichment.js";
import type { AccessRequest, RequestContext } from "../../src/model/request.js";
import { MemoryStateStore } from "../../src/state/memory.js";
import { runStep } from "./harness.js";

const T0 = Date.parse("2026-11-20T10:00:00Z");
const JTI = "7f3c2a9e-41d0-4b8e-9c55-0d2f6a1b8e77";

function request(context: RequestContext, subject = { type: "user", id: "alice" }): AccessRequest {
  return { subject, action: { name: "read" }, resource: { type: "doc", id: "d1" }, context };
}

function net(asn: number, country: string): Enrichment {
  return { network: { asn, hosting: false, anonymizer: false }, geo: { country, source: "database" } };
}

describe("token_replay", () => {
  it("is critical when the same jti comes from another device, with the differing holders as evidence", async () => {
    const store = new MemoryStateStore();
    const first = await runStep(detector, store, {
      request: request({ token: { jti: JTI }, device: { id: "laptop-1" }, ip: "198.51.100.4" }),
      now: T0,
    });
    expect(first.finding).toBeUndefined();
    const r = await runStep(detector, store, {
      request: request({ token: { jti: JTI }, device: { id: "phone-9" }, ip: "198.51.100.4" }),
      now: T0 + 60_000,
    });
    expect(r.finding?.code).toBe("token_replay");
    expect(r.finding?.severity).toBe("critical");
    expect(r.finding?.points).toBe(90);
    expect(r.finding?.evidence.differs).toEqual(["device"]);
    expect(r.finding?.evidence.first_holder).toEqual({ device: "laptop-1" });
    expect(r.finding?.evidence.holder).toEqual({ device: "phone-9" });
    expect(r.finding?.evidence.presented).toBe("token");
  });

  it("never puts the whole token id in the finding", async () => {
    const store = new MemoryStateStore();
    await runStep(detector, store, { request: request({ token: { jti: JTI }, device: { id: "a" } }), now: T0 });
    const r = await runStep(detector, store, {
      request: request({ token: { jti: JTI }, device: { id: "b" } }),
      now: T0,
    });
    expect(r.finding).toBeDefined();
    expect(JSON.stringify(r.finding)).not.toContain(JTI);
    expect(r.finding?.evidence.id_prefix).toBe(`${JTI.slice(0, 8)}…`);
  });

  it("is critical when another workload or another subject presents the token", async () => {
    const store = new MemoryStateStore();
    const svc = { type: "service", id: "billing" };
    await runStep(detector, store, {
      request: request({ token: { jti: "j-w" }, workload: { spiffe_id: "spiffe://prod/billing" } }, svc),
      now: T0,
    });
    const w = await runStep(detector, store, {
      request: request({ token: { jti: "j-w" }, workload: { spiffe_id: "spiffe://dev/debug" } }, svc),
      now: T0 + 1000,
    });
    expect(w.finding?.severity).toBe("critical");
    expect(w.finding?.evidence.differs).toEqual(["workload"]);

    const s = await runStep(detector, store, {
      request: request(
        { token: { jti: "j-w" }, workload: { spiffe_id: "spiffe://prod/billing" } },
        { type: "service", id: "other" },
      ),
      now: T0 + 2000,
    });
    expect(s.finding?.severity).toBe("critical");
    expect(s.finding?.evidence.differs).toEqual(["subject"]);
  });

  it("is high when only the /24 of a token id changes", async () => {
    const store = new MemoryStateStore();
    await runStep(detector, store, { request: request({ token: { jti: JTI }, ip: "203.0.113.7" }), now: T0 });
    const same24 = await runStep(detector, store, {
      request: request({ token: { jti: JTI }, ip: "203.0.113.99" }),
      now: T0 + 1,
    });
    expect(same24.finding).toBeUndefined();
    const r = await runStep(detector, store, {
      request: request({ token: { jti: JTI }, ip: "192.0.2.10" }),
      now: T0 + 2,
    });
    expect(r.finding?.severity).toBe("high");
    expect(r.finding?.points).toBe(60);
    expect(r.finding?.evidence.first_holder).toEqual({ prefix: "203.0.113.0/24" });
    expect(r.finding?.evidence.holder).toEqual({ prefix: "192.0.2.0/24" });
  });

  it("says nothing when a session only moves to another /24 of the same network", async () => {
    const store = new MemoryStateStore();
    await runStep(detector, store, {
      request: request({ session: { id: "s-1" }, ip: "203.0.113.7" }),
      enrichment: net(64500, "GB"),
      now: T0,
    });
    const r = await runStep(detector, store, {
      request: request({ session: { id: "s-1" }, ip: "203.0.114.8" }),
      enrichment: net(64500, "GB"),
      now: T0 + 1000,
    });
    expect(r.applies).toBe(true);
    expect(r.finding).toBeUndefined();
  });

  it("is medium for a session on another ASN and high for one in another country", async () => {
    const store = new MemoryStateStore();
    await runStep(detector, store, {
      request: request({ session: { id: "s-2" } }),
      enrichment: net(64500, "GB"),
      now: T0,
    });
    const asn = await runStep(detector, store, {
      request: request({ session: { id: "s-2" } }),
      enrichment: net(64501, "GB"),
      now: T0 + 1000,
    });
    expect(asn.finding?.severity).toBe("medium");
    expect(asn.finding?.points).toBe(30);
    expect(asn.finding?.evidence.differs).toEqual(["asn"]);
    expect(asn.finding?.evidence.presented).toBe("session");
    const country = await runStep(detector, store, {
      request: request({ session: { id: "s-2" } }),
      enrichment: net(64501, "BR"),
      now: T0 + 2000,
    });
    expect(country.finding?.severity).toBe("high");
    expect(country.finding?.evidence.first_holder).toEqual({ country: "GB" });
  });

  it("reports the worse of token and session when both are presented", async () => {
    const store = new MemoryStateStore();
    await runStep(detector, store, {
      request: request({ session: { id: "s-3" }, token: { jti: "j-3" }, device: { id: "d1" } }),
      now: T0,
    });
    const r = await runStep(detector, store, {
      request: request({ session: { id: "s-3" }, token: { jti: "j-4" }, device: { id: "d2" } }),
      now: T0 + 1,
    });
    expect(r.finding?.severity).toBe("critical");
    expect(r.finding?.evidence.presented).toBe("session");
  });

  it("cold start: the first presentation wins the claim and is silent; the same holder again is silent", async () => {
    const store = new MemoryStateStore();
    const ctx = { token: { jti: JTI }, device: { id: "laptop-1" }, ip: "198.51.100.4" };
    const first = await runStep(detector, store, { request: request(ctx), now: T0 });
    expect(first.finding).toBeUndefined();
    for (let i = 1; i <= 3; i++) {
      const again = await runStep(detector, store, { request: request(ctx), now: T0 + i * 1000 });
      expect(again.finding).toBeUndefined();
    }
  });

  it("registers the first holder even for an untrusted request, and learns nothing", async () => {
    const store = new MemoryStateStore();
    const first = await runStep(detector, store, {
      request: request({ token: { jti: JTI }, device: { id: "attacker" } }),
      now: T0,
      trusted: false,
    });
    expect(first.learn).toEqual([]);
    const r = await runStep(detector, store, {
      request: request({ token: { jti: JTI }, device: { id: "victim" } }),
      now: T0 + 1,
    });
    expect(r.finding?.evidence.first_holder).toEqual({ device: "attacker" });
  });

  it("forgets a token id once the token has expired", async () => {
    const store = new MemoryStateStore();
    const exp = Math.floor(T0 / 1000) + 600;
    await runStep(detector, store, { request: request({ token: { jti: JTI, exp }, device: { id: "a" } }), now: T0 });
    const later = T0 + 600_000 + 300_000 + 1000;
    const r = await runStep(detector, store, {
      request: request({ token: { jti: JTI, exp }, device: { id: "b" } }),
      now: later,
    });
    expect(r.finding).toBeUndefined();
  });

  it("treats a missing part of the holder as unknown, not as a difference", async () => {
    const store = new MemoryStateStore();
    await runStep(detector, store, { request: request({ token: { jti: JTI } }), now: T0 });
    const r = await runStep(detector, store, {
      request: request({ token: { jti: JTI }, device: { id: "d" }, ip: "192.0.2.1" }),
      now: T0 + 1,
    });
    expect(r.finding).toBeUndefined();
  });

  it("does not apply without a token id or session id, and ignores empty or malformed ones", async () => {
    const store = new MemoryStateStore();
    for (const context of [{}, { token: { jti: "" } }, { session: { id: "" } }, { token: {} }, { ip: "not an ip" }]) {
      const r = await runStep(detector, store, { request: request(context as RequestContext), now: T0 });
      expect(r.applies).toBe(false);
    }
    const noContext: AccessRequest = {
      subject: { type: "user", id: "x" },
      action: { name: "read" },
      resource: { type: "d", id: "1" },
    };
    expect((await runStep(detector, store, { request: noContext, now: T0 })).applies).toBe(false);
    const badIp = await runStep(detector, store, {
      request: request({ token: { jti: "j" }, ip: "999.1.1.1" }),
      now: T0,
    });
    expect(badIp.finding).toBeUndefined();
  });
});
