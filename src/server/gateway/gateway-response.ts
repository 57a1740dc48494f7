/**
 * Maps a decision (or a rejected request) onto what an enforcement point answers: status,
 * headers and an RFC 9457 problem body. A policy deny is never a 5xx, because proxies treat a 5xx
 * from the authorization service as an outage, not as a decision.
 */

import { ERROR_CODES, type ErrorCode } from "../../errors/codes.js";
import type { ControlPath } from "../../model/control-path.js";
import type { Decision } from "../../model/decision.js";
import { identityKindOf, type JsonObject, type JsonValue } from "../../model/request.js";
import type { GatewayRejection } from "./gateway-request.js";

/** The parts of a decision an enforcement point needs; an AuthZEN answer carries them too. */
export type DecisionView = Pick<Decision, "id" | "controlPath" | "reasons" | "obligations" | "extras">;

/**
 * `nginx` differs only where `auth_request` cannot pass a status through: it turns any answer
 * other than 2xx, 401 and 403 into a 500, so throttle becomes 403 plus `x-signalbox-retry-after`.
 */
export type GatewayFace = "envoy" | "nginx" | "middleware";

export interface GatewayResponse {
  /** Whether the request may go on to the upstream (possibly constrained by the headers). */
  readonly allowed: boolean;
  readonly status: number;
  /**
   * On allow: headers the upstream enforces (session TTL, read-only, scope) and the decision id.
   * On deny: headers for the client (`WWW-Authenticate`, `Retry-After`, content type).
   */
  readonly headers: Readonly<Record<string, string>>;
  /** RFC 9457 problem JSON on deny; absent on allow. */
  readonly body?: string;
}

/** Headers whose meaning the upstream trusts; a client must never be able to supply them. */
export const ENFORCEMENT_HEADERS: readonly string[] = Object.freeze([
  "x-signalbox-decision-id",
  "x-signalbox-control-path",
  "x-signalbox-session-ttl",
  "x-signalbox-read-only",
  "x-signalbox-scope",
]);

const PROBLEM_TYPE = "application/problem+json";

export function decisionResponse(
  decision: DecisionView,
  subjectType: string,
  face: GatewayFace,
  realm: string,
): GatewayResponse {
  const base: Record<string, string> = {
    "x-signalbox-decision-id": decision.id,
    "x-signalbox-control-path": decision.controlPath,
  };
  const path: ControlPath = decision.controlPath;
  switch (path) {
    case "allow":
      return { allowed: true, status: 200, headers: base };
    case "limit_session": {
      const props = obligationProps(decision, "limit_session");
      const ttl = numberOf(props.max_session_seconds) ?? numberOf(decision.extras.max_session_seconds);
      if (ttl !== undefined) base["x-signalbox-session-ttl"] = String(Math.max(0, Math.floor(ttl)));
      if (props.read_only === true || decision.extras.read_only === true) base["x-signalbox-read-only"] = "true";
      return { allowed: true, status: 200, headers: base };
    }
    case "narrow_scope": {
      const scope = stringOf(obligationProps(decision, "narrow_scope").scope) ?? stringOf(decision.extras.scope);
      if (scope !== undefined) base["x-signalbox-scope"] = headerSafe(scope);
      return { allowed: true, status: 200, headers: base };
    }
    case "step_up":
      return identityKindOf(subjectType) === "human"
        ? humanStepUp(decision, base, realm)
        : machineStepUp(decision, base, realm);
    case "throttle": {
      const retry = Math.max(
        0,
        Math.ceil(
          numberOf(decision.extras.retry_after) ?? numberOf(obligationProps(decision, "throttle").retry_after) ?? 30,
        ),
      );
      const extra = { retry_after: retry };
      if (face === "nginx") {
        return problem(403, "THROTTLED", decision, { ...base, "x-signalbox-retry-after": String(retry) }, extra);
      }
      return problem(429, "THROTTLED", decision, { ...base, "retry-after": String(retry) }, extra);
    }
    case "hold": {
      const extra: JsonObject = { evaluation_id: stringOf(decision.extras.evaluation_id) ?? decision.id };
      const accessRequest = decision.extras.access_request;
      if (accessRequest !== undefined) extra.access_request = accessRequest;
      return problem(403, "APPROVAL_REQUIRED", decision, base, extra);
    }
    case "deny":
      return problem(403, "ACCESS_DENIED", decision, base, {});
    case "quarantine":
      return problem(403, "QUARANTINED", decision, base, {});
  }
}

/** The answer for a request that never reached the engine: a bad token, no subject, an unknown route. */
export function rejectionResponse(rejection: GatewayRejection, realm: string, face: GatewayFace): GatewayResponse {
  switch (rejection.reason) {
    case "invalid_token":
      return standalone(401, "INVALID_TOKEN", rejection.description, {
        "www-authenticate": challenge(realm, { error: "invalid_token", error_description: rejection.description }),
      });
    case "missing_subject":
      // RFC 6750 §3.1: a request without credentials gets a bare challenge, no error code.
      return standalone(401, "SUBJECT_REQUIRED", rejection.description, { "www-authenticate": challenge(realm, {}) });
    case "route_not_allowed":
      return standalone(403, "ROUTE_NOT_ALLOWED", rejection.description, {});
    case "invalid_request":
      return standalone(face === "nginx" ? 403 : 400, "INVALID_REQUEST", rejection.description, {});
  }
}

/**
 * The answer when the service cannot decide. It is a 503 on purpose: Envoy and NGINX then apply
 * their own failure mode (`status_on_error`, fail closed by default) instead of reading a deny.
 */
export function failureResponse(code: ErrorCode, message: string): GatewayResponse {
  const status = ERROR_CODES[code].status >= 500 ? ERROR_CODES[code].status : 503;
  return standalone(status, code, message, {});
}

function humanStepUp(decision: DecisionView, base: Record<string, string>, realm: string): GatewayResponse {
  const stepUp = decision.obligations.find((o) => o.type === "step-up")?.properties ?? {};
  const params: Record<string, string> = {
    error: "insufficient_user_authentication",
    error_description: firstReason(decision) ?? "stronger or more recent authentication is required",
  };
  const acr = stringOf(decision.extras.acr_values) ?? stringOf(stepUp.acr_value);
  if (acr !== undefined) params.acr_values = acr;
  const maxAge = numberOf(decision.extras.max_age) ?? numberOf(stepUp.max_age);
  if (maxAge !== undefined) params.max_age = String(Math.max(0, Math.floor(maxAge)));
  const extra: JsonObject = {};
  if (acr !== undefined) extra.acr_values = acr;
  if (maxAge !== undefined) extra.max_age = Math.max(0, Math.floor(maxAge));
  return problem(401, "STEP_UP_REQUIRED", decision, { ...base, "www-authenticate": challenge(realm, params) }, extra);
}

/** Machines are never prompted: they are told to fetch a new token or to re-attest. */
function machineStepUp(decision: DecisionView, base: Record<string, string>, realm: string): GatewayResponse {
  const reattest =
    decision.obligations.some((o) => o.type === "custom" && o.properties.action === "reattest") ||
    decision.extras.next_action === "reattest";
  const what = reattest ? "attestation" : "token";
  const description = reattest ? "the workload must re-attest and present a new token" : "the token must be re-issued";
  return problem(
    401,
    "STEP_UP_REQUIRED",
    decision,
    {
      ...base,
      "www-authenticate": challenge(realm, { error: "invalid_token", error_description: description }),
      "x-signalbox-reissue": what,
    },
    { next_action: reattest ? "reattest" : "reissue_token" },
  );
}

function problem(
  status: number,
  code: ErrorCode,
  decision: DecisionView,
  headers: Record<string, string>,
  extra: JsonObject,
): GatewayResponse {
  const body: JsonObject = {
    type: problemType(code),
    title: ERROR_CODES[code].meaning,
    status,
    detail: firstReason(decision) ?? ERROR_CODES[code].meaning,
    code,
    decision_id: decision.id,
    control_path: decision.controlPath,
    reasons: decision.reasons.map((r) => ({ code: r.code, message: r.message })),
    ...extra,
  };
  return { allowed: false, status, headers: { ...headers, "content-type": PROBLEM_TYPE }, body: JSON.stringify(body) };
}

function standalone(status: number, code: ErrorCode, detail: string, headers: Record<string, string>): GatewayResponse {
  const body = { type: problemType(code), title: ERROR_CODES[code].meaning, status, detail, code };
  return { allowed: false, status, headers: { ...headers, "content-type": PROBLEM_TYPE }, body: JSON.stringify(body) };
}

function problemType(code: ErrorCode): string {
  return `urn:signalbox:error:${code}`;
}

/** `Bearer realm="…", k="v", …` with every value reduced to what an RFC 6750 quoted string allows. */
export function challenge(realm: string, params: Readonly<Record<string, string>>): string {
  const parts = [`realm="${quotable(realm)}"`];
  for (const [k, v] of Object.entries(params)) parts.push(`${k}="${quotable(v)}"`);
  return `Bearer ${parts.join(", ")}`;
}

function quotable(v: string): string {
  return v.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, "");
}

function headerSafe(v: string): string {
  return v.replace(/[^\x20-\x7e]/g, "");
}

function firstReason(decision: DecisionView): string | undefined {
  return decision.reasons[0]?.message;
}

/** Properties of the Signalbox custom obligation for `action`, or an empty object. */
function obligationProps(decision: DecisionView, action: string): JsonObject {
  return decision.obligations.find((o) => o.type === "custom" && o.properties.action === action)?.properties ?? {};
}

function numberOf(v: JsonValue | undefined): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

function stringOf(v: JsonValue | undefined): string | undefined {
  return typeof v === "string" && v.length > 0 ? v : undefined;
}
