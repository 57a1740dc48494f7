import { describe, expect, it } from "vitest";
import { MemoryAuditTrail } from "../../src/audit/memory.js";
import { ManualClock } from "../../src/engine/clock.js";
import { createEngine } from "../../src/engine/create-engine.js";
import { SignalboxError } from "../../src/errors/signalbox-error.js";
import type { AccessRequest } from "../../src/model/request.js";
import { MemoryStateStore } from "../../src/state/memory.js";
import { policy, rule, segment, TEST_DETECTORS, UnreachableStateStore } from "./fixtures.js";

const T0 = Date.parse("2026-11-20T09:00:00Z");

function req(
  over: Omit<Partial<AccessRequest>, "context"> & { context?: Record<string, unknown> } = {},
): AccessRequest {
  return {
    subject: { type: "user", id: "alice" },
    action: { name: "read" },
    resource: { type: "doc", id: "d1" },
    ...over,
  } as AccessRequest;
}

const people = segment({ name: "people" });

function engineWith(opts: Partial<Parameters<typeof createEngine>[0]> = {}) {
  return createEngine({
    policy: policy([people]),
    detectors: TEST_DETECTORS,
    clock: new ManualClock(T0),
    ...opts,
  });
}

describe("engine.decide", () => {
  it("allows a low-risk request on the fast path with an honest decision", async () => {
    const d = await engineWith().decide(req());
    expect(d.controlPath).toBe("allow");
    expect(d.decision).toBe(true);
    expect(d.score).toBe(0);
    expect(d.band).toBe("low");
    expect(d.segment).toBe("people");
    expect(d.reasons.map((r) => r.code)).toEqual(["low_risk"]);
    expect(d.policy).toEqual({ id: "test", revision: "1" });
    expect(d.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(d.time).toBe(T0);
  });

  it("routes by the ladder and explains the score finding by finding", async () => {
    const e = engineWith();
    const d = await e.decide(req({ context: { device: { id: "laptop-1" } } }));
    expect(d.controlPath).toBe("step_up");
    expect(d.decision).toBe(false);
    expect(d.score).toBe(40);
    expect(d.findings).toHaveLength(1);
    expect(d.findings[0]).toMatchObject({
      detector: "known_device",
      points: 40,
      contribution: 40,
      evidence: { device: "laptop-1" },
    });
    expect(d.reasons.map((r) => r.code)).toEqual(["new_device"]);
    expect(d.matched).toContainEqual({ id: "ladder@30", kind: "ladder", path: "step_up" });
  });

  it("applies segment weights to contributions", async () => {
    const e = engineWith({ policy: policy([segment({ name: "people", weights: { known_device: 0.5 } })]) });
    const d = await e.decide(req({ context: { device: { id: "laptop-1" } } }));
    expect(d.score).toBe(20);
    expect(d.controlPath).toBe("allow");
  });

  it("lets the most restrictive of ladder and rules win", async () => {
    const seg = segment({
      name: "people",
      rules: [
        rule("big-payout", "hold", (v) => (v.action as { name: string }).name === "payout.change"),
        rule("device-narrow", "narrow_scope", (v) => "known_device" in (v.findings as object)),
      ],
    });
    const e = engineWith({ policy: policy([seg]) });
    const d = await e.decide(req({ action: { name: "payout.change" }, context: { device: { id: "x" } } }));
    // ladder says step_up (40), rules say hold and narrow_scope: hold is the most restrictive
    expect(d.controlPath).toBe("hold");
    expect(d.reasons.map((r) => r.code)).toEqual(["big-payout"]);
    expect(d.matched.map((m) => m.id)).toEqual(["ladder@30", "big-payout", "device-narrow"]);
    expect(d.extras.access_request).toBeDefined();
    expect(d.extras.evaluation_id).toBe(d.id);
  });

  it("picks the first segment whose condition holds", async () => {
    const machines = segment({
      name: "machines",
      when: { source: "machine", evaluate: (v) => ({ value: (v.subject as { type: string }).type === "service" }) },
    });
    const e = engineWith({ policy: policy([machines, people]) });
    expect((await e.decide(req({ subject: { type: "service", id: "etl" } }))).segment).toBe("machines");
    expect((await e.decide(req())).segment).toBe("people");
  });

  it("denies with no_segment when no segment matches", async () => {
    const only = segment({ name: "only", when: { source: "false", evaluate: () => ({ value: false }) } });
    const d = await engineWith({ policy: policy([only]) }).decide(req());
    expect(d.controlPath).toBe("deny");
    expect(d.reasons[0]?.code).toBe("no_segment");
  });

  it("shapes step-up for people as MFA and for machines as re-issuance, never MFA", async () => {
    const e = engineWith();
    const human = await e.decide(req({ context: { device: { id: "d" } } }));
    expect(human.obligations[0]?.type).toBe("step-up");
    expect(human.extras).toMatchObject({ acr_values: "urn:signalbox:loa:mfa", max_age: 0 });
    const machine = await e.decide(req({ subject: { type: "service", id: "etl" }, context: { device: { id: "d" } } }));
    expect(machine.controlPath).toBe("step_up");
    expect(machine.obligations.map((o) => o.type)).not.toContain("step-up");
    expect(machine.obligations[0]?.properties.action).toBe("reissue_token");
    expect(machine.extras.acr_values).toBeUndefined();
  });

  it("turns a throwing detector into an error finding and the segment's on_error path", async () => {
    const detectorErrors: string[] = [];
    const e = engineWith({
      policy: policy([segment({ name: "people", onError: "hold" })]),
      observer: { onDetectorError: (id, seg) => detectorErrors.push(`${id}@${seg}`) },
    });
    const d = await e.decide(req({ context: { explode: true } }));
    expect(detectorErrors).toEqual(["explodes@people"]);
    expect(d.controlPath).toBe("hold");
    expect(d.findings[0]).toMatchObject({ detector: "explodes", error: { code: "DETECTOR_FAILED", message: "boom" } });
    expect(d.errors.map((x) => x.source)).toContain("explodes");
    expect(d.reasons[0]?.code).toBe("detector_error");
  });

  it("falls back to on_error within the timeout when the state store hangs or fails", async () => {
    for (const mode of ["hang", "fail"] as const) {
      const stateErrors: string[] = [];
      const e = engineWith({
        state: new UnreachableStateStore(mode),
        stateTimeoutMs: 20,
        observer: { onStateError: (kind) => stateErrors.push(kind) },
      });
      const d = await e.decide(req({ context: { device: { id: "d" } } }));
      expect(d.controlPath).toBe("step_up");
      expect(d.reasons[0]?.code).toBe("state_unavailable");
      expect(d.findings[0]?.error?.code).toBe("STATE_UNAVAILABLE");
      expect(stateErrors[0]).toBe(mode === "hang" ? "timeout" : "error");
      // one wait at most: the failed store is not written to afterwards
      expect(stateErrors).toHaveLength(1);
    }
  });

  it("never throws for odd signals", async () => {
    const e = engineWith();
    const d = await e.decide(req({ context: { device: { id: 42 }, authn: "nonsense", geo: [1, 2] } }));
    expect(d.controlPath).toBe("allow");
  });

  it("rejects malformed requests with every problem named", async () => {
    const e = engineWith();
    const err = await e.decide({ subject: { type: "user" }, action: {}, resource: "x" }).catch((x) => x);
    expect(err).toBeInstanceOf(SignalboxError);
    expect(err.code).toBe("INVALID_REQUEST");
    expect(err.problems.map((p: { path: string }) => p.path)).toEqual(["subject.id", "action.name", "resource"]);
  });
});

describe("event time", () => {
  it("uses context.time for windows and the decision time", async () => {
    const e = engineWith({ eventTime: "request" });
    const fail = (time: string) =>
      e.decide(req({ action: { name: "login" }, context: { time, authn: { result: "failure" } } }));
    await fail("2026-11-20T09:00:00Z");
    await fail("2026-11-20T09:01:00Z");
    const third = await fail("2026-11-20T09:02:00Z");
    expect(third.time).toBe(Date.parse("2026-11-20T09:02:00Z"));
    expect(third.findings[0]?.evidence).toEqual({ failures: 2 });
    // an hour later on the event clock the window has passed
    const later = await fail("2026-11-20T10:30:00Z");
    expect(later.findings).toHaveLength(0);
  });

  it("requires a valid context.time", async () => {
    const e = engineWith({ eventTime: "request" });
    await expect(e.decide(req())).rejects.toMatchObject({ code: "EVENT_TIME_INVALID" });
    await expect(e.decide(req({ context: { time: "yesterday" } }))).rejects.toMatchObject({
      code: "EVENT_TIME_INVALID",
    });
  });
});

describe("learning gated by trusted outcomes", () => {
  it("learns a device only after a passed step-up, never from a failed one", async () => {
    const state = new MemoryStateStore();
    const e = engineWith({ state });
    const device = { context: { device: { id: "phone-2" } } };

    const first = await e.decide(req(device));
    expect(first.controlPath).toBe("step_up");
    await e.recordOutcome(first.id, "step_up_failed");
    expect((await e.decide(req(device))).controlPath).toBe("step_up");

    const third = await e.decide(req(device));
    await e.recordOutcome(third.id, "step_up_passed");
    const after = await e.decide(req(device));
    expect(after.controlPath).toBe("allow");
    expect(after.findings).toHaveLength(0);
  });

  it("learns directly from a low-risk allow", async () => {
    const e = engineWith({ policy: policy([segment({ name: "people", weights: { known_device: 0.1 } })]) });
    const first = await e.decide(req({ context: { device: { id: "d1" } } }));
    expect(first.controlPath).toBe("allow");
    expect(first.score).toBe(4);
    const second = await e.decide(req({ context: { device: { id: "d1" } } }));
    expect(second.findings).toHaveLength(0);
  });
});

describe("engine.recordOutcome", () => {
  it("answers unknown ids, unknown outcomes and contradictions with their codes", async () => {
    const e = engineWith();
    await expect(e.recordOutcome("nope", "approved")).rejects.toMatchObject({ code: "UNKNOWN_DECISION" });
    const d = await e.decide(req({ context: { device: { id: "d" } } }));
    await expect(e.recordOutcome(d.id, "maybe")).rejects.toMatchObject({ code: "UNKNOWN_OUTCOME" });
    await e.recordOutcome(d.id, "step_up_passed");
    await e.recordOutcome(d.id, "step_up_passed"); // idempotent
    await expect(e.recordOutcome(d.id, "confirmed_compromise")).rejects.toMatchObject({ code: "OUTCOME_CONFLICT" });
  });

  it("finds trusted decisions through the audit trail", async () => {
    const audit = new MemoryAuditTrail();
    const e = engineWith({ audit });
    const d = await e.decide(req());
    expect(d.controlPath).toBe("allow");
    await e.recordOutcome(d.id, "false_positive");
    await expect(e.recordOutcome(d.id, "confirmed_compromise")).rejects.toMatchObject({ code: "OUTCOME_CONFLICT" });
    expect((await audit.getDecision(d.id))?.outcomes.map((o) => o.outcome)).toEqual(["false_positive"]);
  });
});

describe("policy swap and shadow policy", () => {
  it("swaps the policy atomically and shows the new revision", async () => {
    const e = engineWith();
    expect((await e.decide(req())).policy.revision).toBe("1");
    e.setPolicy(policy([people], "2"));
    expect((await e.decide(req())).policy.revision).toBe("2");
  });

  it("evaluates a shadow policy beside the active one, records it, never enforces it", async () => {
    const audit = new MemoryAuditTrail();
    const seen: Array<[string, string]> = [];
    const strict = policy([segment({ name: "people", rules: [rule("all-deny", "deny", () => true)] })], "shadow");
    const e = engineWith({
      audit,
      shadowPolicy: strict,
      observer: { onShadowDecision: (a, s) => seen.push([a.controlPath, s.controlPath]) },
    });
    const d = await e.decide(req());
    expect(d.controlPath).toBe("allow");
    expect(seen).toEqual([["allow", "deny"]]);
    const shadows = [...audit.decisions.values()].filter((x) => x.entry.shadow);
    expect(shadows).toHaveLength(1);
    expect(shadows[0]?.entry.decision.policy.revision).toBe("shadow");
  });
});
