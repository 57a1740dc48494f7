/**
 * Obligations: what the enforcement point must do for the chosen path, shaped by identity kind.
 * People are asked for MFA (RFC 9470 `acr_values` / `max_age`); machines are asked to re-issue a
 * token or re-attest, never for an interactive prompt.
 */

import type { ControlPath } from "../model/control-path.js";
import type { Obligation } from "../model/decision.js";
import type { IdentityKind, JsonObject, JsonValue } from "../model/request.js";
import type { PathSettings } from "../policy/compiled.js";

export interface ShapedObligations {
  readonly obligations: Obligation[];
  /** AuthZEN response members beside the obligations: `acr_values`, `max_age`, `retry_after`, `access_request`. */
  readonly extras: JsonObject;
}

export interface ObligationInputs {
  readonly path: ControlPath;
  readonly kind: IdentityKind;
  readonly settings: PathSettings;
  readonly ruleObligations: readonly JsonObject[];
  readonly decisionId: string;
  readonly subjectId: string;
  readonly sessionId?: string;
  /** Decision time, epoch ms. */
  readonly now: number;
}

const DEFAULTS = {
  step_up: { acr_values: "urn:signalbox:loa:mfa", max_age: 0 },
  machine_step_up: { reissue_token: true, reattest: false },
  limit_session: { max_session_seconds: 900, read_only: false },
  narrow_scope: { scope: "read" },
  throttle: { retry_after: 30 },
  hold: { expires_in: 3600 },
} as const;

const NONE: ShapedObligations = Object.freeze({ obligations: [], extras: Object.freeze({}) as JsonObject });

export function shapeObligations(input: ObligationInputs): ShapedObligations {
  const extra = merge(input.ruleObligations);
  const id = (n: number) => `${input.decisionId}.${n}`;
  switch (input.path) {
    case "allow":
      return extra ? { obligations: [custom(id(1), "notify", extra)], extras: {} } : NONE;
    case "limit_session": {
      const s: JsonObject = { ...DEFAULTS.limit_session, ...input.settings.limit_session, ...extra };
      return { obligations: [custom(id(1), "limit_session", s)], extras: {} };
    }
    case "narrow_scope": {
      const s: JsonObject = { ...DEFAULTS.narrow_scope, ...input.settings.narrow_scope, ...extra };
      return { obligations: [custom(id(1), "narrow_scope", s)], extras: {} };
    }
    case "throttle": {
      const s: JsonObject = { ...DEFAULTS.throttle, ...input.settings.throttle, ...extra };
      const retry = asNumber(s.retry_after, DEFAULTS.throttle.retry_after);
      return {
        obligations: [custom(id(1), "throttle", s)],
        extras: { reason: "rate_limited", next_action: "retry", retry_after: retry },
      };
    }
    case "step_up":
      return input.kind === "human" ? humanStepUp(input, extra, id) : machineStepUp(input, extra, id);
    case "hold": {
      const s: JsonObject = { ...DEFAULTS.hold, ...input.settings.hold, ...extra };
      const expiresAt = new Date(input.now + asNumber(s.expires_in, DEFAULTS.hold.expires_in) * 1000).toISOString();
      const accessRequest: JsonObject = { expires_at: expiresAt };
      if (typeof s.template === "string") accessRequest.template = s.template;
      return {
        obligations: [custom(id(1), "hold", { ...s, review_id: input.decisionId, expires_at: expiresAt })],
        extras: { reason: "approval_required", evaluation_id: input.decisionId, access_request: accessRequest },
      };
    }
    case "deny":
      return extra ? { obligations: [custom(id(1), "notify", extra)], extras: {} } : NONE;
    case "quarantine": {
      const props: JsonObject = { subject: input.subjectId };
      if (input.sessionId) props.session = input.sessionId;
      return {
        obligations: [
          { id: id(1), type: "session_termination", properties: props },
          {
            id: id(2),
            type: "notification",
            properties: { topic: "quarantine", subject: input.subjectId, ...(extra ?? {}) },
          },
        ],
        extras: { reason: "quarantined" },
      };
    }
  }
}

function humanStepUp(
  input: ObligationInputs,
  extra: JsonObject | undefined,
  id: (n: number) => string,
): ShapedObligations {
  const s: JsonObject = { ...DEFAULTS.step_up, ...input.settings.step_up, ...extra };
  const acrValues = typeof s.acr_values === "string" ? s.acr_values : DEFAULTS.step_up.acr_values;
  const maxAge = asNumber(s.max_age, DEFAULTS.step_up.max_age);
  const amr = Array.isArray(s.amr_values) ? (s.amr_values as JsonValue[]) : ["mfa"];
  return {
    obligations: [
      {
        id: id(1),
        type: "step-up",
        properties: { acr_value: acrValues.split(" ")[0] ?? acrValues, amr_values: amr, max_age: maxAge },
      },
    ],
    extras: { reason: "step_up_required", acr_values: acrValues, max_age: maxAge },
  };
}

function machineStepUp(
  input: ObligationInputs,
  extra: JsonObject | undefined,
  id: (n: number) => string,
): ShapedObligations {
  const s: JsonObject = { ...DEFAULTS.machine_step_up, ...input.settings.machine_step_up, ...extra };
  const reattest = s.reattest === true;
  return {
    obligations: [custom(id(1), reattest ? "reattest" : "reissue_token", s)],
    extras: {
      reason: reattest ? "reattestation_required" : "token_reissue_required",
      next_action: reattest ? "reattest" : "reissue_token",
    },
  };
}

function custom(id: string, action: string, props: JsonObject): Obligation {
  return { id, type: "custom", properties: { vendor: "signalbox", action, ...props } };
}

function merge(list: readonly JsonObject[]): JsonObject | undefined {
  if (list.length === 0) return undefined;
  return Object.assign({}, ...list) as JsonObject;
}

function asNumber(v: unknown, fallback: number): number {
  return typeof v === "number" && Number.isFinite(v) ? v : fallback;
}
