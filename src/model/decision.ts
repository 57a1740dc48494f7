/** The decision: the control path, why, and what the enforcement point must do. */

import type { RiskBand } from "./band.js";
import type { ControlPath } from "./control-path.js";
import type { Finding } from "./finding.js";
import type { JsonObject } from "./request.js";

export interface Reason {
  readonly code: string;
  readonly message: string;
}

/** Obligation types of the AuthZEN obligations profile, plus Signalbox's own in `custom`. */
export type ObligationType = "step-up" | "session_termination" | "notification" | "custom";

export interface Obligation {
  readonly id: string;
  readonly type: ObligationType;
  readonly properties: JsonObject;
}

/** A rule, ladder step or authorization grant that shaped the decision. */
export interface MatchedRule {
  readonly id: string;
  readonly kind: "rule" | "ladder" | "authorize" | "on_error" | "default";
  readonly path: ControlPath;
}

export interface DecisionError {
  readonly code: string;
  readonly message: string;
  /** Detector id or `state` / `policy` for where the error came from. */
  readonly source: string;
}

export interface Decision {
  /** Unique, time-ordered id (UUIDv7), the key for outcomes and the audit trail. */
  readonly id: string;
  readonly controlPath: ControlPath;
  /** The honest AuthZEN boolean: true only for allow, limit_session and narrow_scope. */
  readonly decision: boolean;
  readonly score: number;
  readonly band: RiskBand;
  readonly segment: string;
  readonly reasons: readonly Reason[];
  readonly findings: readonly Finding[];
  readonly obligations: readonly Obligation[];
  readonly matched: readonly MatchedRule[];
  readonly policy: { readonly id: string; readonly revision: string };
  readonly errors: readonly DecisionError[];
  /** Event time of the decision in epoch milliseconds (the request's time on event-time replay). */
  readonly time: number;
  /** Extra AuthZEN response members: `acr_values`, `max_age`, `retry_after`, `access_request`. */
  readonly extras: JsonObject;
  /** Per-stage timings in microseconds, for the native API. */
  readonly timings: {
    readonly totalUs: number;
    readonly stateUs: number;
    readonly detectUs: number;
    readonly policyUs: number;
  };
}
