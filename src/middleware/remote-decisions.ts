/** A decision source that asks a remote Signalbox over its AuthZEN API, for the middleware. */

import { SignalboxError } from "../errors/index.js";
import { isControlPath } from "../model/control-path.js";
import type { Obligation, Reason } from "../model/decision.js";
import type { AccessRequest, JsonObject, JsonValue } from "../model/request.js";
import type { DecisionSource } from "../server/gateway/gateway-check.js";
import type { DecisionView } from "../server/gateway/gateway-response.js";

export interface RemoteSignalboxOptions {
  /** Base URL of the Signalbox service, e.g. `http://127.0.0.1:8700`. */
  readonly url: string;
  /** Sent as `Authorization: Bearer <key>` when the service has API keys. */
  readonly apiKey?: string;
  /** Longest wait for an answer before failing closed. Default 1000 ms. */
  readonly timeoutMs?: number;
  /** Default: the global `fetch`. */
  readonly fetch?: typeof fetch;
}

/** Context members of an AuthZEN answer that the gateway mapping reads as `extras`. */
const EXTRA_KEYS = ["acr_values", "max_age", "retry_after", "access_request", "evaluation_id", "next_action", "reason"];

/**
 * Calls `POST /access/v1/evaluation` (the public contract) and reads Signalbox's answer from its
 * `context`. Any transport error, non-200 status or unreadable body rejects with `INTERNAL`,
 * which the middleware turns into a fail-closed 503.
 */
export function remoteDecisionSource(options: RemoteSignalboxOptions): DecisionSource {
  const endpoint = new URL("/access/v1/evaluation", options.url).toString();
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 1000;
  return {
    async decide(request: AccessRequest): Promise<DecisionView> {
      const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
      if (options.apiKey !== undefined) headers.authorization = `Bearer ${options.apiKey}`;
      let res: Response;
      try {
        res = await doFetch(endpoint, {
          method: "POST",
          headers,
          body: JSON.stringify(request),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        throw new SignalboxError("INTERNAL", `signalbox at "${endpoint}" did not answer`, { cause: err });
      }
      if (res.status !== 200) {
        await res.body?.cancel();
        throw new SignalboxError("INTERNAL", `signalbox at "${endpoint}" answered status ${res.status}`);
      }
      let body: unknown;
      try {
        body = await res.json();
      } catch (err) {
        throw new SignalboxError("INTERNAL", `signalbox at "${endpoint}" answered with a body that is not JSON`, {
          cause: err,
        });
      }
      return fromAuthzen(body);
    },
  };
}

/** Reads an AuthZEN evaluation answer; a missing or unknown path falls back to the honest boolean. */
export function fromAuthzen(body: unknown): DecisionView {
  if (!isObject(body) || typeof body.decision !== "boolean") {
    throw new SignalboxError("INTERNAL", "the AuthZEN answer has no boolean decision");
  }
  const context = isObject(body.context) ? body.context : {};
  const declared = context.control_path;
  // Never let a context path loosen the boolean: `decision: false` with an allowing path is a deny.
  let controlPath = isControlPath(declared) ? declared : body.decision ? "allow" : "deny";
  const permitted = controlPath === "allow" || controlPath === "limit_session" || controlPath === "narrow_scope";
  if (permitted !== body.decision) controlPath = body.decision ? "allow" : "deny";
  const extras: JsonObject = {};
  for (const key of EXTRA_KEYS) {
    const v = context[key];
    if (v !== undefined) extras[key] = v as JsonValue;
  }
  return {
    id: typeof context.decision_id === "string" ? context.decision_id : "unknown",
    controlPath,
    reasons: Array.isArray(context.reasons) ? context.reasons.filter(isReason) : [],
    obligations: Array.isArray(context.obligations) ? context.obligations.filter(isObligation) : [],
    extras,
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isReason(v: unknown): v is Reason {
  return isObject(v) && typeof v.code === "string" && typeof v.message === "string";
}

function isObligation(v: unknown): v is Obligation {
  return isObject(v) && typeof v.id === "string" && typeof v.type === "string" && isObject(v.properties);
}
