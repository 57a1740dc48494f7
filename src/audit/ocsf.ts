/**
 * OCSF export of decisions: a decision record becomes one API Activity (6003) event with the
 * Security Control profile, plus one Detection Finding (2004) per finding. Outcomes are mapped in
 * `ocsf-outcome.ts`; `ocsf-export.ts` picks the mapping for any record.
 */

import type { RiskBand } from "../model/band.js";
import type { ControlPath } from "../model/control-path.js";
import type { Severity } from "../model/finding.js";
import type { JsonObject, JsonValue } from "../model/request.js";
import type { DecisionAuditRecord } from "./record.js";

/** The OCSF schema version the events follow. */
export const OCSF_VERSION = "1.8.0";

export type OcsfEvent = JsonObject;

const API_ACTIVITY = { classUid: 6003, categoryUid: 6 } as const;
const DETECTION_FINDING = { classUid: 2004, categoryUid: 2 } as const;

interface SecurityControl {
  readonly action_id: number;
  readonly action: string;
  readonly disposition_id: number;
  readonly disposition: string;
}

/** Control path → Security Control profile outcome (step-up is never 23 Challenge: that is a bot check). */
export function securityControlOf(path: ControlPath): SecurityControl {
  switch (path) {
    case "allow":
      return { action_id: 1, action: "Allowed", disposition_id: 1, disposition: "Allowed" };
    case "limit_session":
      return { action_id: 4, action: "Modified", disposition_id: 99, disposition: "Limited Session" };
    case "narrow_scope":
      return { action_id: 4, action: "Modified", disposition_id: 99, disposition: "Narrowed Scope" };
    case "throttle":
      return { action_id: 2, action: "Denied", disposition_id: 2, disposition: "Blocked" };
    case "step_up":
      return { action_id: 2, action: "Denied", disposition_id: 99, disposition: "Step-Up Required" };
    case "hold":
      return { action_id: 2, action: "Denied", disposition_id: 99, disposition: "Pending Approval" };
    case "deny":
      return { action_id: 2, action: "Denied", disposition_id: 2, disposition: "Blocked" };
    case "quarantine":
      return { action_id: 2, action: "Denied", disposition_id: 24, disposition: "Access Revoked" };
  }
}

/** Risk band → OCSF `risk_level_id` (1 Low … 4 Critical) and event `severity_id`. */
function riskLevelOf(band: RiskBand): { risk_level_id: number; risk_level: string; severity_id: number } {
  switch (band) {
    case "low":
      return { risk_level_id: 1, risk_level: "Low", severity_id: 1 };
    case "medium":
      return { risk_level_id: 2, risk_level: "Medium", severity_id: 3 };
    case "high":
      return { risk_level_id: 3, risk_level: "High", severity_id: 4 };
    case "critical":
      return { risk_level_id: 4, risk_level: "Critical", severity_id: 5 };
  }
}

function severityIdOf(severity: Severity): number {
  switch (severity) {
    case "info":
      return 1;
    case "low":
      return 2;
    case "medium":
      return 3;
    case "high":
      return 4;
    case "critical":
      return 5;
  }
}

/** API Activity's activity from the AuthZEN action name: 1 Create, 2 Read, 3 Update, 4 Delete, 99 Other. */
function activityOf(action: string): { activity_id: number; activity_name: string } {
  const a = action.toLowerCase();
  if (["create", "post"].includes(a)) return { activity_id: 1, activity_name: "Create" };
  if (["read", "get", "list", "head", "view"].includes(a)) return { activity_id: 2, activity_name: "Read" };
  if (["write", "update", "put", "patch"].includes(a)) return { activity_id: 3, activity_name: "Update" };
  if (a === "delete") return { activity_id: 4, activity_name: "Delete" };
  return { activity_id: 99, activity_name: "Other" };
}

/** The event's `metadata`: the product, the applied profiles, its own uid and the decision it belongs to. */
export function metadata(record: DecisionAuditRecord, uid: string, profiles: readonly string[]): JsonObject {
  return {
    version: OCSF_VERSION,
    product: { name: "Signalbox", vendor_name: "Signalbox", version: record.engine_version },
    profiles: [...profiles],
    uid,
    correlation_uid: record.decision_id ?? "",
    logged_time: Date.parse(record.wall_time),
  };
}

/** The OCSF `user` of an AuthZEN subject: its id as `uid` and `name`, its type as `type`. */
export function userOf(subject: JsonValue | undefined): JsonObject {
  return {
    uid: String(field(subject, "id") ?? ""),
    name: String(field(subject, "id") ?? ""),
    type: String(field(subject, "type") ?? ""),
  };
}

/** A member of a JSON object, or undefined for anything else. */
export function field(obj: JsonValue | undefined, key: string): JsonValue | undefined {
  return obj !== null && typeof obj === "object" && !Array.isArray(obj) ? obj[key] : undefined;
}

/** The API Activity (6003) event of one decision. */
export function apiActivityEvent(record: DecisionAuditRecord): OcsfEvent {
  const request = record.request;
  const subject = field(request, "subject");
  const action = field(request, "action");
  const resource = field(request, "resource");
  const ip = field(field(request, "context"), "ip");
  const activity = activityOf(String(field(action, "name") ?? ""));
  const risk = riskLevelOf(record.band);
  const control = securityControlOf(record.control_path);
  const time = Date.parse(record.event_time);
  // A masked address is no IP; it still identifies the endpoint for correlation.
  const srcEndpoint: JsonObject =
    typeof ip === "string" && !ip.startsWith("sha256:") ? { ip } : { uid: typeof ip === "string" ? ip : "unknown" };
  return {
    class_uid: API_ACTIVITY.classUid,
    class_name: "API Activity",
    category_uid: API_ACTIVITY.categoryUid,
    category_name: "Application Activity",
    activity_id: activity.activity_id,
    activity_name: activity.activity_name,
    type_uid: API_ACTIVITY.classUid * 100 + activity.activity_id,
    severity_id: risk.severity_id,
    time,
    message: `${record.control_path} for ${record.subject}${record.reasons.length ? `: ${record.reasons.map((r) => r.code).join(", ")}` : ""}`,
    status_id: 1,
    status: "Success",
    metadata: metadata(record, record.decision_id ?? "", ["security_control"]),
    actor: {
      user: userOf(subject),
      app_name: "Signalbox",
    },
    api: {
      operation: "access.evaluation",
      request: { uid: record.decision_id ?? "" },
      service: { name: "Signalbox" },
    },
    src_endpoint: srcEndpoint,
    resources: [{ uid: String(field(resource, "id") ?? ""), type: String(field(resource, "type") ?? "") }],
    action_id: control.action_id,
    action: control.action,
    disposition_id: control.disposition_id,
    disposition: control.disposition,
    policy: {
      uid: record.policy.id,
      name: record.policy.id,
      version: record.policy.revision,
      is_applied: !record.shadow,
    },
    risk_score: record.score,
    risk_level_id: risk.risk_level_id,
    risk_level: risk.risk_level,
    unmapped: {
      control_path: record.control_path,
      segment: record.segment,
      decision: record.decision,
      shadow: record.shadow,
      reasons: record.reasons.map((r) => r.code),
      obligations: record.obligations.map((o) => o.type),
    },
  };
}

/** One Detection Finding (2004) per finding of the decision. */
export function detectionFindingEvents(record: DecisionAuditRecord): OcsfEvent[] {
  const time = Date.parse(record.event_time);
  return record.findings.map((f, i) => {
    const uid = `${record.decision_id ?? ""}/${i}`;
    return {
      class_uid: DETECTION_FINDING.classUid,
      class_name: "Detection Finding",
      category_uid: DETECTION_FINDING.categoryUid,
      category_name: "Findings",
      activity_id: 1,
      activity_name: "Create",
      type_uid: DETECTION_FINDING.classUid * 100 + 1,
      severity_id: severityIdOf(f.severity),
      time,
      message: f.message,
      status_id: 1,
      status: "New",
      metadata: metadata(record, uid, []),
      finding_info: {
        uid,
        title: f.message,
        types: [f.code],
        analytic: { name: f.detector, uid: f.detector, type_id: 1, type: "Rule" },
        related_events: [{ uid: record.decision_id ?? "" }],
      },
      risk_score: f.contribution,
      is_alert: record.control_path === "quarantine" || f.severity === "critical",
      unmapped: {
        control_path: record.control_path,
        points: f.points,
        evidence: f.evidence,
        ...(f.error ? { error: { code: f.error.code, message: f.error.message } } : {}),
      },
    };
  });
}
