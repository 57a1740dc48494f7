/** A decision in the native API's shape: everything the engine knows, with snake_case members. */

import type { AuditedDecision } from "../../audit/port.js";
import type { Decision } from "../../model/decision.js";
import type { JsonObject, JsonValue } from "../../model/request.js";

export function toNative(d: Decision): JsonObject {
  return {
    decision: d.decision,
    decision_id: d.id,
    control_path: d.controlPath,
    risk: { score: d.score, band: d.band },
    segment: d.segment,
    reasons: d.reasons.map((r) => ({ code: r.code, message: r.message })),
    obligations: d.obligations.map((o) => ({ id: o.id, type: o.type, properties: o.properties })),
    ...d.extras,
    findings: d.findings.map((f) => {
      const finding: JsonObject = {
        detector: f.detector,
        code: f.code,
        severity: f.severity,
        points: f.points,
        contribution: f.contribution,
        message: f.message,
        evidence: f.evidence,
      };
      if (f.error) finding.error = { code: f.error.code, message: f.error.message };
      return finding;
    }),
    matched: d.matched.map((m) => ({ id: m.id, kind: m.kind, path: m.path })),
    policy: { id: d.policy.id, revision: d.policy.revision },
    errors: d.errors.map((e) => ({ code: e.code, message: e.message, source: e.source })),
    time: new Date(d.time).toISOString(),
    timings_us: {
      total: d.timings.totalUs,
      state: d.timings.stateUs,
      detect: d.timings.detectUs,
      policy: d.timings.policyUs,
    },
  };
}

/** An audited decision with its request and every outcome recorded for it. */
export function toNativeAudited(a: AuditedDecision): JsonObject {
  return {
    ...toNative(a.entry.decision),
    request: a.entry.request as unknown as JsonValue,
    recorded_at: new Date(a.entry.wallTime).toISOString(),
    engine_version: a.entry.engineVersion,
    shadow: a.entry.shadow === true,
    outcomes: a.outcomes.map((o) => ({ outcome: o.outcome, recorded_at: new Date(o.wallTime).toISOString() })),
  };
}
