/**
 * A decision in AuthZEN's shape: the honest boolean, and Signalbox's answer in `context` (contract §2).
 * Pure, so the gateways and the middleware answer exactly like the AuthZEN endpoints.
 */

import type { Decision } from "../../model/decision.js";
import type { JsonObject, JsonValue } from "../../model/request.js";

export interface AuthzenDecision {
  decision: boolean;
  context?: JsonObject;
}

/**
 * The full AuthZEN decision. `extras` (`acr_values`, `max_age`, `retry_after`, `access_request`,
 * `reason`, …) come from the engine as they are; they are spread last only where they do not
 * shadow the core members, so a policy cannot forge the control path or the decision id.
 */
export function toAuthzen(d: Decision): AuthzenDecision {
  const context: JsonObject = {};
  for (const [k, v] of Object.entries(d.extras)) context[k] = v;
  context.control_path = d.controlPath;
  context.decision_id = d.id;
  context.risk = { score: d.score, band: d.band };
  context.segment = d.segment;
  context.reasons = d.reasons.map((r) => ({ code: r.code, message: r.message }));
  context.obligations = d.obligations.map((o) => ({ id: o.id, type: o.type, properties: o.properties as JsonValue }));
  return { decision: d.decision, context };
}

/** The bare AuthZEN answer, `{"decision": bool}`, for PEPs and harnesses that compare exactly. */
export function toMinimalAuthzen(d: Decision): AuthzenDecision {
  return { decision: d.decision };
}

/** A per-item error in a batch: closed (`false`), with the error in context as the spec's example shows. */
export function authzenItemError(status: number, message: string, minimal: boolean): AuthzenDecision {
  return minimal ? { decision: false } : { decision: false, context: { error: { status, message } } };
}
