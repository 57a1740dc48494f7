import { describe, expect, it } from "vitest";
import { privilegeEscalationDetector as detector } from "../../src/detectors/privilege-escalation.js";
import type { AccessRequest, JsonObject } from "../../src/model/request.js";
import { MemoryStateStore } from "../../src/state/memory.js";
import { runStep } from "./harness.js";

const T0 = Date.parse("2026-11-20T10:00:00Z");
const DAY = 86_400_000;
const SUBJECT = { type: "user", id: "alice" };

function request(name: string, properties?: JsonObject): AccessRequest {
  return {
    subject: SUBJECT,
    action: properties ? { name, properties } : { name },
    resource: { type: "account", id: "acme" },
  };
}

/** An identity other detectors already know: one learned device. */
async function established(): Promise<MemoryStateStore> {
  const store = new MemoryStateStore();
  await store.write(
    [{ op: "see", profile: "user:alice", field: "devices", value: "laptop", at: T0 - DAY, cap: 50 }],
    T0,
  );
  return store;
}

describe("privilege_escalation", () => {
  it("flags a privileged action an established identity never performed", async () => {
    const store = await established();
    await runStep(detector, store, { request: request("admin.users.list"), now: T0 });
    const r = await runStep(detector, store, { request: request("payout.change"), now: T0 + 1000 });
    expect(r.finding?.code).toBe("privilege_escalation");
    expect(r.finding?.severity).toBe("medium");
    expect(r.finding?.points).toBe(35);
    expect(r.finding?.evidence).toEqual({
      action: "payout.change",
      privileged_because: "payout.change",
      known_privileged_actions: 1,
      known_examples: ["admin.users.list"],
    });
  });

  it("is silent for a privileged action already learned, and for ordinary actions", async () => {
    const store = await established();
    const first = await runStep(detector, store, { request: request("secrets.read"), now: T0 });
    expect(first.finding?.code).toBe("privilege_escalation");
    const again = await runStep(detector, store, { request: request("secrets.read"), now: T0 + DAY });
    expect(again.finding).toBeUndefined();
    const ordinary = await runStep(detector, store, { request: request("read"), now: T0 });
    expect(ordinary.applies).toBe(false);
  });

  it("treats action.properties.privileged as privileged whatever the name", async () => {
    const store = await established();
    const r = await runStep(detector, store, { request: request("export", { privileged: true }), now: T0 });
    expect(r.finding?.evidence.privileged_because).toBe("property");
    const notTrue = await runStep(detector, store, { request: request("export", { privileged: "yes" }), now: T0 });
    expect(notTrue.applies).toBe(false);
  });

  it("cold start: a never-seen identity gets the weaker first_seen_identity finding", async () => {
    const r = await runStep(detector, new MemoryStateStore(), { request: request("admin.roles.grant"), now: T0 });
    expect(r.finding?.code).toBe("first_seen_identity");
    expect(r.finding?.severity).toBe("low");
    expect(r.finding?.points).toBe(10);
    expect(r.finding?.evidence.privileged_because).toBe("admin.*");
  });

  it("does not learn from an untrusted request", async () => {
    const store = await established();
    const untrusted = await runStep(detector, store, {
      request: request("iam.policy.update"),
      now: T0,
      trusted: false,
    });
    expect(untrusted.learn).toHaveLength(1);
    const r = await runStep(detector, store, { request: request("iam.policy.update"), now: T0 + 1000 });
    expect(r.finding?.code).toBe("privilege_escalation");
    const after = await runStep(detector, store, { request: request("iam.policy.update"), now: T0 + 2000 });
    expect(after.finding).toBeUndefined();
  });

  it("forgets a privileged action not performed within max_age_days", async () => {
    const store = await established();
    await runStep(detector, store, { request: request("keys.rotate"), now: T0 });
    const r = await runStep(detector, store, { request: request("keys.rotate"), now: T0 + 181 * DAY });
    expect(r.finding?.code).toBe("privilege_escalation");
    const shorter = await runStep(detector, store, {
      request: request("keys.rotate"),
      now: T0 + 200 * DAY,
      params: { max_age_days: 30 },
    });
    expect(shorter.finding).toBeUndefined();
  });

  it("uses a policy's privileged_actions list, and never applies to logins", async () => {
    const store = await established();
    const params = { privileged_actions: ["refund.*"] };
    expect((await runStep(detector, store, { request: request("refund.issue"), now: T0, params })).finding?.code).toBe(
      "privilege_escalation",
    );
    expect((await runStep(detector, store, { request: request("admin.users.list"), now: T0, params })).applies).toBe(
      false,
    );
    expect((await runStep(detector, store, { request: request("login", { privileged: true }), now: T0 })).applies).toBe(
      false,
    );
  });
});
