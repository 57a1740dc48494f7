/** The engine's public face: options, the `Engine` interface, and what it reports to observers. */

import type { AuditTrail } from "../audit/port.js";
import type { Detector } from "../detectors/detector.js";
import type { Enricher } from "../enrich/enrichment.js";
import type { Decision } from "../model/decision.js";
import type { Outcome } from "../model/outcome.js";
import type { AccessRequest } from "../model/request.js";
import type { CompiledPolicy } from "../policy/compiled.js";
import type { StateStore } from "../state/port.js";
import type { Clock } from "./clock.js";

/** Where the time of a decision comes from (contract §1). */
export type EventTimeMode = "server" | "request";

/** Hooks for metrics and logs; called synchronously, must not throw. */
export interface EngineObserver {
  onDecision?(decision: Decision, request: AccessRequest): void;
  onShadowDecision?(active: Decision, shadow: Decision, request: AccessRequest): void;
  onDetectorError?(detector: string, segment: string): void;
  onStateError?(kind: "timeout" | "error", message: string): void;
  onOutcome?(outcome: Outcome, decisionId: string): void;
  /** Called by the service runtime (not the engine) after each policy reload attempt. */
  onPolicyReload?(result: "ok" | "error"): void;
}

export interface EngineOptions {
  policy: CompiledPolicy;
  /** A candidate policy evaluated beside the active one; its decisions are recorded, never enforced. */
  shadowPolicy?: CompiledPolicy;
  /** Default: a fresh in-memory store. */
  state?: StateStore;
  /** Default: off. */
  audit?: AuditTrail;
  /** Default: the system clock. */
  clock?: Clock;
  /** Default: `server`. With `request`, `context.time` is the time of the decision. */
  eventTime?: EventTimeMode;
  /** Default: every shipped detector. */
  detectors?: readonly Detector[];
  /** Default: PEP-supplied facts only. */
  enricher?: Enricher;
  /** Longest wait for the state store before the segment's `on_error` applies. Default 50 ms. */
  stateTimeoutMs?: number;
  /** How long a decision waits for its outcome to release held-back learning. Default 24 h. */
  pendingTtlMs?: number;
  observer?: EngineObserver;
  /** Version string written into audit records. */
  engineVersion?: string;
}

export interface Engine {
  /**
   * Decides one request. Validates it (throws `INVALID_REQUEST` / `EVENT_TIME_INVALID` for a malformed
   * request), and otherwise never throws because of a signal, a detector or the state store: those
   * become findings and errors, and the segment's `on_error` path decides. Rejects with
   * `AUDIT_UNAVAILABLE` when the audit record cannot be committed.
   */
  decide(request: unknown): Promise<Decision>;
  /**
   * Feeds an outcome back. Throws `UNKNOWN_DECISION` (404), `OUTCOME_CONFLICT` (409) or
   * `UNKNOWN_OUTCOME` (400). A trusted outcome releases the decision's held-back learning.
   * Decisions that held learning back or asked for an answer (step-up, hold) are kept in the state
   * store until their outcome arrives; any other decision is found through the audit trail, so
   * without an audit trail an outcome for it is `UNKNOWN_DECISION`.
   */
  recordOutcome(decisionId: string, outcome: unknown): Promise<void>;
  /** The active policy. */
  readonly policy: CompiledPolicy;
  /** Atomically replaces the active policy; decisions in flight finish on the old one. */
  setPolicy(policy: CompiledPolicy): void;
  /** Sets or clears the shadow policy. */
  setShadowPolicy(policy: CompiledPolicy | undefined): void;
  readonly state: StateStore;
  readonly audit: AuditTrail;
  /** Closes the state store and the audit trail (flushing it). */
  close(): Promise<void>;
}
