/**
 * OCSF export of outcomes, which the PEP or an analyst reports after a decision. Each is mapped
 * against the decision it answers, which holds the subject, the request and the findings:
 *
 * - `step_up_passed` / `step_up_failed`: **Authentication (3002)**, activity Logon, status Success
 *   or Failure; `is_mfa` when the step-up asked a person for MFA (a machine's step-up is a token
 *   re-issuance or re-attestation, never MFA).
 * - `approved` / `rejected` (a hold): **API Activity (6003)** with the Security Control profile,
 *   Allowed/Approved (8) or Denied/Rejected (25), `api.operation` `access.approval`.
 * - `false_positive`: **Detection Finding (2004)**, activity Close and status Resolved, for each
 *   finding of the decision (same `finding_info.uid` as when it was created).
 * - `confirmed_compromise`: **Detection Finding (2004)**, activity Update, an alert at Critical, for
 *   each finding; when the decision had none (a compromise nothing flagged), one finding of its own.
 *
 * Every event carries the decision id as `metadata.correlation_uid`, the outcome record's place in
 * its chain as `metadata.uid`, and the outcome itself in `unmapped.outcome`.
 */

import type { JsonObject } from "../model/request.js";
import { apiActivityEvent, detectionFindingEvents, field, metadata, type OcsfEvent, userOf } from "./ocsf.js";
import type { DecisionAuditRecord, OutcomeAuditRecord } from "./record.js";

const AUTHENTICATION = { classUid: 3002, categoryUid: 3 } as const;

/** Where an outcome record sits in the trail: its writer's chain and place in it. */
function outcomeUid(outcome: OutcomeAuditRecord): string {
  return `${outcome.writer_id}/${outcome.seq}`;
}

function common(outcome: OutcomeAuditRecord, decision: DecisionAuditRecord, profiles: readonly string[]): JsonObject {
  return {
    time: Date.parse(outcome.event_time),
    metadata: { ...metadata(decision, outcomeUid(outcome), profiles), logged_time: Date.parse(outcome.wall_time) },
  };
}

function stepUpEvent(outcome: OutcomeAuditRecord, decision: DecisionAuditRecord): OcsfEvent {
  const passed = outcome.outcome === "step_up_passed";
  const subject = field(decision.request, "subject");
  const ip = field(field(decision.request, "context"), "ip");
  return {
    class_uid: AUTHENTICATION.classUid,
    class_name: "Authentication",
    category_uid: AUTHENTICATION.categoryUid,
    category_name: "Identity & Access Management",
    activity_id: 1,
    activity_name: "Logon",
    type_uid: AUTHENTICATION.classUid * 100 + 1,
    severity_id: passed ? 1 : 3,
    ...common(outcome, decision, []),
    message: `step-up ${passed ? "passed" : "failed"} for ${decision.subject}`,
    status_id: passed ? 1 : 2,
    status: passed ? "Success" : "Failure",
    user: userOf(subject),
    // Only a person's step-up asks for MFA (an AuthZEN step-up obligation); a machine's is custom.
    is_mfa: decision.obligations.some((o) => o.type === "step-up"),
    ...(typeof ip === "string" && !ip.startsWith("sha256:") ? { src_endpoint: { ip } } : {}),
    unmapped: { outcome: outcome.outcome, decision_id: outcome.decision_id, control_path: decision.control_path },
  };
}

function approvalEvent(outcome: OutcomeAuditRecord, decision: DecisionAuditRecord): OcsfEvent {
  const approved = outcome.outcome === "approved";
  const base = apiActivityEvent(decision);
  const control = approved
    ? { action_id: 1, action: "Allowed", disposition_id: 8, disposition: "Approved" }
    : { action_id: 2, action: "Denied", disposition_id: 25, disposition: "Rejected" };
  return {
    ...base,
    ...common(outcome, decision, ["security_control"]),
    severity_id: 1,
    message: `hold ${approved ? "approved" : "rejected"} for ${decision.subject}`,
    api: { ...(base.api as JsonObject), operation: "access.approval" },
    ...control,
    unmapped: { outcome: outcome.outcome, decision_id: outcome.decision_id, control_path: decision.control_path },
  };
}

function verdictEvents(outcome: OutcomeAuditRecord, decision: DecisionAuditRecord): OcsfEvent[] {
  const compromise = outcome.outcome === "confirmed_compromise";
  const verdict = compromise ? "true_positive" : "false_positive";
  const created = detectionFindingEvents(decision);
  const findings =
    created.length > 0 || !compromise
      ? created
      : [
          // Nothing flagged the decision the compromise came through: a finding of its own says so.
          {
            ...detectionFindingEvents({
              ...decision,
              findings: [
                {
                  detector: "outcome",
                  code: "confirmed_compromise",
                  severity: "critical",
                  points: 0,
                  contribution: 0,
                  message: `compromise confirmed for ${decision.subject}, through a decision no finding flagged`,
                  evidence: {},
                },
              ],
            })[0],
          } as OcsfEvent,
        ];
  return findings.map((f) => ({
    ...f,
    ...common(outcome, decision, []),
    activity_id: compromise ? 2 : 3,
    activity_name: compromise ? "Update" : "Close",
    type_uid: 2004 * 100 + (compromise ? 2 : 3),
    ...(compromise ? { severity_id: 5, is_alert: true } : { is_alert: false }),
    status_id: compromise ? 2 : 4,
    status: compromise ? "In Progress" : "Resolved",
    message: `${compromise ? "confirmed compromise" : "false positive"}: ${String(f.message ?? "")}`,
    unmapped: { ...(f.unmapped as JsonObject), outcome: outcome.outcome, verdict },
  }));
}

/** The OCSF events of one outcome, given the decision it answers. */
export function outcomeEvents(outcome: OutcomeAuditRecord, decision: DecisionAuditRecord): OcsfEvent[] {
  switch (outcome.outcome) {
    case "step_up_passed":
    case "step_up_failed":
      return [stepUpEvent(outcome, decision)];
    case "approved":
    case "rejected":
      return [approvalEvent(outcome, decision)];
    case "false_positive":
    case "confirmed_compromise":
      return verdictEvents(outcome, decision);
  }
}
