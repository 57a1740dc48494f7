/**
 * OCSF Authorize Session (3003) for the decisions that grant a session less than it asked for:
 * `limit_session` (a shorter session, perhaps read-only) and `narrow_scope` (fewer privileges). It
 * follows the decision's API Activity event and carries what the obligation granted.
 */

import type { JsonObject } from "../model/request.js";
import { field, metadata, type OcsfEvent, userOf } from "./ocsf.js";
import type { DecisionAuditRecord } from "./record.js";

const AUTHORIZE_SESSION = { classUid: 3003, categoryUid: 3 } as const;

/** The obligation properties of the decision's own limit or narrowing (`custom`, action = path). */
function grant(record: DecisionAuditRecord): JsonObject {
  const o = record.obligations.find((x) => x.type === "custom" && x.properties.action === record.control_path);
  return o?.properties ?? {};
}

/** The Authorize Session event of a `limit_session` or `narrow_scope` decision; none for other paths. */
export function authorizeSessionEvent(record: DecisionAuditRecord): OcsfEvent | undefined {
  if (record.control_path !== "limit_session" && record.control_path !== "narrow_scope") return undefined;
  const subject = field(record.request, "subject");
  const sessionId = field(field(field(record.request, "context"), "session"), "id");
  const granted = grant(record);
  const time = Date.parse(record.event_time);
  const session: JsonObject = {
    ...(typeof sessionId === "string" ? { uid: sessionId } : {}),
    ...(typeof granted.max_session_seconds === "number"
      ? { expiration_time: time + granted.max_session_seconds * 1000 }
      : {}),
  };
  const privileges =
    record.control_path === "narrow_scope"
      ? String(granted.scope ?? "")
          .split(" ")
          .filter(Boolean)
      : granted.read_only === true
        ? ["read_only"]
        : [];
  return {
    class_uid: AUTHORIZE_SESSION.classUid,
    class_name: "Authorize Session",
    category_uid: AUTHORIZE_SESSION.categoryUid,
    category_name: "Identity & Access Management",
    activity_id: 1,
    activity_name: "Assign Privileges",
    type_uid: AUTHORIZE_SESSION.classUid * 100 + 1,
    severity_id: 1,
    time,
    message: `${record.control_path === "narrow_scope" ? "narrowed scope" : "limited session"} for ${record.subject}`,
    status_id: 1,
    status: "Success",
    metadata: metadata(record, `${record.decision_id ?? ""}/session`, []),
    user: userOf(subject),
    ...(Object.keys(session).length > 0 ? { session } : {}),
    privileges,
    unmapped: { control_path: record.control_path, grant: granted },
  };
}
