import { describe, expect, it } from "vitest";
import type { ControlPath } from "../../src/model/control-path.js";
import type { Obligation } from "../../src/model/decision.js";
import type { JsonObject } from "../../src/model/request.js";
import {
  challenge,
  type DecisionView,
  decisionResponse,
  failureResponse,
  rejectionResponse,
} from "../../src/server/gateway/gateway-response.js";

const custom = (action: string, props: JsonObject): Obligation => ({
  id: "d-1.1",
  type: "custom",
  properties: { vendor: "signalbox", action, ...props },
});

function view(controlPath: ControlPath, extras: JsonObject = {}, obligations: Obligation[] = []): DecisionView {
  return { id: "d-1", controlPath, reasons: [{ code: "r", message: `because ${controlPath}` }], obligations, extras };
}

const bodyOf = (r: { body?: string }) => JSON.parse(r.body ?? "null") as Record<string, unknown>;

describe("decision → gateway answer", () => {
  it("allow: 200 with the decision id, no body", () => {
    const r = decisionResponse(view("allow"), "user", "envoy", "signalbox");
    expect(r).toEqual({
      allowed: true,
      status: 200,
      headers: { "x-signalbox-decision-id": "d-1", "x-signalbox-control-path": "allow" },
    });
  });

  it("limit_session: 200 with the session TTL and read-only headers", () => {
    const r = decisionResponse(
      view("limit_session", {}, [custom("limit_session", { max_session_seconds: 600, read_only: true })]),
      "user",
      "envoy",
      "signalbox",
    );
    expect(r.allowed).toBe(true);
    expect(r.status).toBe(200);
    expect(r.headers["x-signalbox-session-ttl"]).toBe("600");
    expect(r.headers["x-signalbox-read-only"]).toBe("true");
  });

  it("narrow_scope: 200 with the scope header", () => {
    const r = decisionResponse(
      view("narrow_scope", {}, [custom("narrow_scope", { scope: "profile:read" })]),
      "user",
      "nginx",
      "s",
    );
    expect(r.status).toBe(200);
    expect(r.headers["x-signalbox-scope"]).toBe("profile:read");
  });

  it("step_up for a person: RFC 9470 challenge", () => {
    const r = decisionResponse(
      view("step_up", { reason: "step_up_required", acr_values: "urn:signalbox:loa:mfa", max_age: 300 }),
      "user",
      "envoy",
      "signalbox",
    );
    expect(r.allowed).toBe(false);
    expect(r.status).toBe(401);
    expect(r.headers["www-authenticate"]).toBe(
      'Bearer realm="signalbox", error="insufficient_user_authentication", error_description="because step_up", acr_values="urn:signalbox:loa:mfa", max_age="300"',
    );
    expect(bodyOf(r)).toMatchObject({
      code: "STEP_UP_REQUIRED",
      status: 401,
      decision_id: "d-1",
      acr_values: "urn:signalbox:loa:mfa",
    });
  });

  it("step_up for a machine: invalid_token plus re-issue or re-attest, never an MFA prompt", () => {
    const reissue = decisionResponse(
      view("step_up", { next_action: "reissue_token" }, [custom("reissue_token", { reissue_token: true })]),
      "service",
      "envoy",
      "signalbox",
    );
    expect(reissue.status).toBe(401);
    expect(reissue.headers["www-authenticate"]).toContain('error="invalid_token"');
    expect(reissue.headers["www-authenticate"]).not.toContain("insufficient_user_authentication");
    expect(reissue.headers["x-signalbox-reissue"]).toBe("token");
    const reattest = decisionResponse(
      view("step_up", {}, [custom("reattest", { reattest: true })]),
      "workload",
      "envoy",
      "s",
    );
    expect(reattest.headers["x-signalbox-reissue"]).toBe("attestation");
    expect(bodyOf(reattest).next_action).toBe("reattest");
  });

  it("throttle: 429 with Retry-After, or 403 with x-signalbox-retry-after behind NGINX", () => {
    const envoy = decisionResponse(view("throttle", { retry_after: 17 }), "user", "envoy", "s");
    expect(envoy.status).toBe(429);
    expect(envoy.headers["retry-after"]).toBe("17");
    expect(bodyOf(envoy)).toMatchObject({ code: "THROTTLED", retry_after: 17 });
    const nginx = decisionResponse(view("throttle", { retry_after: 17 }), "user", "nginx", "s");
    expect(nginx.status).toBe(403);
    expect(nginx.headers["x-signalbox-retry-after"]).toBe("17");
    expect(nginx.headers["retry-after"]).toBeUndefined();
  });

  it("hold: 403 problem with the access request hint", () => {
    const accessRequest = { expires_at: "2026-11-23T19:00:00.000Z" };
    const r = decisionResponse(
      view("hold", { evaluation_id: "d-1", access_request: accessRequest }),
      "user",
      "envoy",
      "s",
    );
    expect(r.status).toBe(403);
    expect(r.headers["content-type"]).toBe("application/problem+json");
    expect(bodyOf(r)).toEqual({
      type: "urn:signalbox:error:APPROVAL_REQUIRED",
      title: expect.any(String),
      status: 403,
      detail: "because hold",
      code: "APPROVAL_REQUIRED",
      decision_id: "d-1",
      control_path: "hold",
      reasons: [{ code: "r", message: "because hold" }],
      evaluation_id: "d-1",
      access_request: accessRequest,
    });
  });

  it("deny and quarantine: 403 problems with their own codes", () => {
    const deny = decisionResponse(view("deny"), "user", "envoy", "s");
    const quarantine = decisionResponse(view("quarantine"), "user", "nginx", "s");
    expect([deny.status, quarantine.status]).toEqual([403, 403]);
    expect(bodyOf(deny).code).toBe("ACCESS_DENIED");
    expect(bodyOf(quarantine).code).toBe("QUARANTINED");
  });

  it("never answers a decision with a 5xx", () => {
    const paths: ControlPath[] = [
      "allow",
      "limit_session",
      "narrow_scope",
      "throttle",
      "step_up",
      "hold",
      "deny",
      "quarantine",
    ];
    for (const face of ["envoy", "nginx", "middleware"] as const) {
      for (const p of paths) {
        const status = decisionResponse(view(p), "user", face, "s").status;
        expect(status, `${face} ${p}`).toBeLessThan(500);
        if (face === "nginx") expect([200, 401, 403], `${face} ${p}`).toContain(status);
      }
    }
  });
});

describe("rejections and failures", () => {
  it("an invalid token is a 401 invalid_token challenge", () => {
    const r = rejectionResponse(
      { reason: "invalid_token", description: "the token has expired" },
      "signalbox",
      "envoy",
    );
    expect(r.status).toBe(401);
    expect(r.headers["www-authenticate"]).toBe(
      'Bearer realm="signalbox", error="invalid_token", error_description="the token has expired"',
    );
    expect(bodyOf(r).code).toBe("INVALID_TOKEN");
  });

  it("a missing subject is a bare challenge; an invalid request is 403 for NGINX", () => {
    expect(
      rejectionResponse({ reason: "missing_subject", description: "x" }, "api", "envoy").headers["www-authenticate"],
    ).toBe('Bearer realm="api"');
    expect(rejectionResponse({ reason: "invalid_request", description: "x" }, "api", "envoy").status).toBe(400);
    expect(rejectionResponse({ reason: "invalid_request", description: "x" }, "api", "nginx").status).toBe(403);
  });

  it("a failure to decide is a 5xx so the proxy applies its failure mode", () => {
    expect(failureResponse("INTERNAL", "down").status).toBe(500);
    expect(failureResponse("AUDIT_UNAVAILABLE", "down").status).toBe(503);
    expect(failureResponse("INVALID_REQUEST", "odd").status).toBe(503);
  });

  it("strips quotes and control characters from challenge values", () => {
    expect(challenge("r", { error_description: 'say "hi"\\\n' })).toBe('Bearer realm="r", error_description="say hi"');
  });
});
