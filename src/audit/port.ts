/**
 * The audit port: the tamper-evident record of every decision and outcome.
 *
 * Contract every adapter keeps (checked by `test/audit/conformance.ts`):
 * - `recordDecision` resolves only once the record is committed (durable per the store's mode);
 *   it rejects with `AUDIT_UNAVAILABLE` when it cannot commit. Records keep their order per writer.
 * - Records are built from the entry lazily inside the adapter, so the engine pays nothing for
 *   fields it never reads; a disabled trail (`enabled: false`) is never called on the hot path.
 * - `getDecision` returns a committed decision with every outcome recorded for it, or undefined.
 */

import type { Decision } from "../model/decision.js";
import type { Outcome } from "../model/outcome.js";
import type { AccessRequest } from "../model/request.js";

export interface DecisionEntry {
  readonly request: AccessRequest;
  readonly decision: Decision;
  /** Wall-clock time the decision was made, epoch ms (differs from event time on replay). */
  readonly wallTime: number;
  readonly engineVersion: string;
  /** Whether the decision came from a shadow policy (recorded, never enforced). */
  readonly shadow?: boolean;
}

export interface OutcomeEntry {
  readonly decisionId: string;
  readonly outcome: Outcome;
  readonly wallTime: number;
}

export interface AuditedDecision {
  readonly entry: DecisionEntry;
  readonly outcomes: readonly OutcomeEntry[];
}

export interface AuditTrail {
  /** Adapter name, e.g. `off`, `sqlite`, `postgresql`. */
  readonly kind: string;
  /** False for the disabled trail: the engine then skips building entries entirely. */
  readonly enabled: boolean;
  recordDecision(entry: DecisionEntry): Promise<void>;
  recordOutcome(entry: OutcomeEntry): Promise<void>;
  getDecision(id: string): Promise<AuditedDecision | undefined>;
  close(): Promise<void>;
}

/** The disabled audit trail: records nothing and knows no decisions. */
export const AUDIT_OFF: AuditTrail = Object.freeze({
  kind: "off",
  enabled: false,
  recordDecision: async () => {},
  recordOutcome: async () => {},
  getDecision: async () => undefined,
  close: async () => {},
});
