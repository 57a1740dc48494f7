/** An in-memory audit trail: keeps decisions and outcomes in process, for tests and the library use. */

import type { AuditedDecision, AuditTrail, DecisionEntry, OutcomeEntry } from "./port.js";

export class MemoryAuditTrail implements AuditTrail {
  readonly kind = "memory";
  readonly enabled = true;
  readonly decisions = new Map<string, { entry: DecisionEntry; outcomes: OutcomeEntry[] }>();

  async recordDecision(entry: DecisionEntry): Promise<void> {
    this.decisions.set(entry.decision.id, { entry, outcomes: [] });
  }

  async recordOutcome(entry: OutcomeEntry): Promise<void> {
    this.decisions.get(entry.decisionId)?.outcomes.push(entry);
  }

  async getDecision(id: string): Promise<AuditedDecision | undefined> {
    return this.decisions.get(id);
  }

  async close(): Promise<void> {}
}
