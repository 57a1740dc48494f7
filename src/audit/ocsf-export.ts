/** The OCSF events of any audit record: decisions (`ocsf.ts`), outcomes (`ocsf-outcome.ts`); checkpoints stay in the native trail. */

import { apiActivityEvent, detectionFindingEvents, type OcsfEvent } from "./ocsf.js";
import { outcomeEvents } from "./ocsf-outcome.js";
import type { AuditRecordV1, DecisionAuditRecord } from "./record.js";

/**
 * The events of `record`. An outcome is mapped against the decision it answers, which `decision`
 * supplies; an outcome whose decision is gone (cut by retention) has no event.
 */
export function ocsfEventsOf(record: AuditRecordV1, decision?: DecisionAuditRecord): OcsfEvent[] {
  switch (record.kind) {
    case "decision":
      return [apiActivityEvent(record), ...detectionFindingEvents(record)];
    case "outcome":
      return decision ? outcomeEvents(record, decision) : [];
    case "checkpoint":
      return [];
  }
}
