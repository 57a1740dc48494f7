import { describe, expect, it } from "vitest";
import { CONTROL_PATHS, type ControlPath, isPermitted } from "../../src/model/control-path.js";
import type { Decision, Obligation } from "../../src/model/decision.js";
import type { JsonObject } from "../../src/model/request.js";
import { authzenItemError, toAuthzen, toMinimalAuthzen } from "../../src/server/authzen/to-authzen.js";

function decision(path: ControlPath, obligations: Obligation[] = [], extras: JsonObject = {}): Decision {
  return {
    id: "01a20000-0000-7000-8000-00000000abcd",
    controlPath: path,
    decision: isPermitted(path),
    score: 61,
    band: "high",
    segment: "people-login",
    reasons: [{ code: "new_device", message: "first sign-in from this device" }],
    findings: [],
    obligations,
    matched: [],
    policy: { id: "p", revision: "1" },
    errors: [],
    time: 0,
    extras,
    timings: { totalUs: 1, stateUs: 0, detectUs: 0, policyUs: 0 },
  };
}

describe("toAuthzen", () => {
  it("keeps the decision boolean honest for every control path", () => {
    for (const path of CONTROL_PATHS) {
      const expected = path === "allow" || path === "limit_session" || path === "narrow_scope";
      expect(toAuthzen(decision(path)).decision, path).toBe(expected);
    }
  });

  it("carries the control path, decision id, risk, segment and reasons in context", () => {
    expect(toAuthzen(decision("allow"))).toEqual({
      decision: true,
      context: {
        control_path: "allow",
        decision_id: "01a20000-0000-7000-8000-00000000abcd",
        risk: { score: 61, band: "high" },
        segment: "people-login",
        reasons: [{ code: "new_device", message: "first sign-in from this device" }],
        obligations: [],
      },
    });
  });

  it("passes human step-up extras and obligations through as the engine shaped them", () => {
    const stepUp: Obligation = {
      id: "x.1",
      type: "step-up",
      properties: { acr_value: "urn:signalbox:loa:mfa", amr_values: ["mfa"] },
    };
    const out = toAuthzen(decision("step_up", [stepUp], { acr_values: "urn:signalbox:loa:mfa", max_age: 300 }));
    expect(out.decision).toBe(false);
    expect(out.context).toMatchObject({
      control_path: "step_up",
      acr_values: "urn:signalbox:loa:mfa",
      max_age: 300,
      obligations: [stepUp],
    });
  });

  it("carries retry_after on throttle and access_request on hold", () => {
    expect(toAuthzen(decision("throttle", [], { retry_after: 30, reason: "rate_limited" })).context).toMatchObject({
      retry_after: 30,
      reason: "rate_limited",
    });
    const hold = toAuthzen(decision("hold", [], { access_request: { expires_at: "2026-11-23T20:00:00.000Z" } }));
    expect(hold.context?.access_request).toEqual({ expires_at: "2026-11-23T20:00:00.000Z" });
  });

  it("never lets extras overwrite the core members", () => {
    const out = toAuthzen(decision("deny", [], { control_path: "allow", decision_id: "forged" }));
    expect(out.context?.control_path).toBe("deny");
    expect(out.context?.decision_id).toBe("01a20000-0000-7000-8000-00000000abcd");
  });

  it("has a minimal form and a closed per-item error", () => {
    expect(toMinimalAuthzen(decision("limit_session"))).toEqual({ decision: true });
    expect(authzenItemError(400, "missing", false)).toEqual({
      decision: false,
      context: { error: { status: 400, message: "missing" } },
    });
    expect(authzenItemError(400, "missing", true)).toEqual({ decision: false });
  });
});
