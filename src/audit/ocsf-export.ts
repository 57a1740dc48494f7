/**
 * The OCSF events of any audit record: decisions (`ocsf.ts`, and `ocsf-session.ts` for a limited
 * session or narrowed scope), outcomes (`ocsf-outcome.ts`); checkpoints stay in the native trail.
 */

import { apiActivityEvent, detectionFindingEvents, type OcsfEvent } from "./ocsf.js";
import { outcomeEvents } from "./ocsf-outcome.js";
import { authorizeSessionEvent } from "./ocsf-session.js";
import type { AuditRecordV1, DecisionAuditRecord } from "./record.js";

/**
 * The events of `record`. An outcome is mapped against the decision it answers, which `decision`
 * supplies; an outcome whose decision is gone (cut by retention) has no event.
 */
export function ocsfEventsOf(record: AuditRecordV1, decision?: DecisionAuditRecord): OcsfEvent[] {
  switch (record.kind) {
    case "decision": {
      const session = authorizeSessionEvent(record);
      return [apiActivityEvent(record), ...(session ? [session] : []), ...detectionFindingEvents(record)];
    }
    case "outcome":
      return decision ? outcomeEvents(record, decision) : [];
    case "checkpoint":
      return [];
  }
}
