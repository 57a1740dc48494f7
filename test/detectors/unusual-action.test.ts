import { describe, expect, it } from "vitest";
import { unusualActionDetector as detector } from "../../src/detectors/unusual-action.js";
import type { AccessRequest, JsonObject } from "../../src/model/request.js";
import { MemoryStateStore } from "../../src/state/memory.js";
import { runStep } from "./harness.js";

const T0 = Date.parse("2026-11-20T10:00:00Z");
const HOUR = 3_600_000;

function request(name: string, type = "service", properties?: JsonObject): AccessRequest {
  return {
    subject: { type, id: "etl" },
    action: properties ? { name, properties } : { name },
    resource: { type: "bucket", id: "raw" },
  };
}

/** Thirty trusted requests over thirty hours, alternating the given actions. */
async function history(actions: readonly AccessRequest[]): Promise<MemoryStateStore> {
  const store = new MemoryStateStore();
  for (let i = 0; i < 30; i++) {
    const req = actions[i % actions.length] as AccessRequest;
    const r = await runStep(detector, store, { request: req, now: T0 + i * HOUR });
    expect(r.finding).toBeUndefined();
  }
  return store;
}

const LATER = T0 + 40 * HOUR;

describe("unusual_action", () => {
  it("flags an action outside an established machine identity's learned set", async () => {
    const store = await history([request("read"), request("write")]);
    const r = await runStep(detector, store, { request: request("delete"), now: LATER });
    expect(r.finding?.code).toBe("unusual_action");
    expect(r.finding?.severity).toBe("medium");
    expect(r.finding?.points).toBe(35);
    expect(r.finding?.evidence).toEqual({
      action: "delete",
      known_actions: 2,
      observations: 30,
      known_examples: ["read", "write"],
    });
  });

  it("flags an agent's tool call outside its learned scope as agent_out_of_scope", async () => {
    const call = (tool: string) => request("tools.call", "agent", { tool });
    const store = await history([call("search_docs"), call("summarise")]);
    expect((await runStep(detector, store, { request: call("summarise"), now: LATER })).finding).toBeUndefined();
    const r = await runStep(detector, store, { request: call("send_payment"), now: LATER });
    expect(r.finding?.code).toBe("agent_out_of_scope");
    expect(r.finding?.severity).toBe("high");
    expect(r.finding?.points).toBe(50);
    expect(r.finding?.evidence.action).toBe("tools.call:send_payment");
  });

  it("is silent for learned actions", async () => {
    const store = await history([request("read"), request("write")]);
    expect((await runStep(detector, store, { request: request("write"), now: LATER })).finding).toBeUndefined();
  });

  it("cold start: silent before min_observations and min_history_hours", async () => {
    const store = new MemoryStateStore();
    for (let i = 0; i < 19; i++) await runStep(detector, store, { request: request("read"), now: T0 + i * 2 * HOUR });
    expect(
      (await runStep(detector, store, { request: request("drop"), now: T0 + 40 * HOUR, trusted: false })).finding,
    ).toBeUndefined();
    const quick = new MemoryStateStore();
    for (let i = 0; i < 50; i++) await runStep(detector, quick, { request: request("read"), now: T0 + i * 60_000 });
    expect((await runStep(detector, quick, { request: request("drop"), now: T0 + 2 * HOUR })).finding).toBeUndefined();
  });

  it("does not learn from an untrusted request", async () => {
    const store = await history([request("read")]);
    await runStep(detector, store, { request: request("export"), now: LATER, trusted: false });
    expect((await runStep(detector, store, { request: request("export"), now: LATER + 1 })).finding?.code).toBe(
      "unusual_action",
    );
    expect((await runStep(detector, store, { request: request("export"), now: LATER + 2 })).finding).toBeUndefined();
  });

  it("does not apply to people or logins", async () => {
    const store = new MemoryStateStore();
    expect((await runStep(detector, store, { request: request("read", "user"), now: T0 })).applies).toBe(false);
    expect((await runStep(detector, store, { request: request("login"), now: T0 })).applies).toBe(false);
    expect((await runStep(detector, store, { request: request(""), now: T0 })).applies).toBe(false);
  });
});
