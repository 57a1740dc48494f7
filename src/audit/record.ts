/** The audit record schema `signalbox.audit/v1`: what one committed line of the trail holds. */

import type { RiskBand } from "../model/band.js";
import type { ControlPath } from "../model/control-path.js";
import type { Decision, DecisionError, MatchedRule, Obligation, Reason } from "../model/decision.js";
import type { Finding } from "../model/finding.js";
import type { Outcome } from "../model/outcome.js";
import type { AccessRequest, JsonObject } from "../model/request.js";
import { identityKey } from "../model/request.js";
import type { DecisionEntry, OutcomeEntry } from "./port.js";

export const AUDIT_SCHEMA = "signalbox.audit/v1";

export type AuditRecordKind = "decision" | "outcome" | "checkpoint";

/** Fields every record carries; `seq`, `prev_hash` and `hash` tie it into its writer's chain. */
export interface AuditRecordHeader {
  readonly schema: typeof AUDIT_SCHEMA;
  readonly kind: AuditRecordKind;
  /** Position in the writer's chain, from 1, without gaps. */
  readonly seq: number;
  readonly writer_id: string;
  /** The decision the record is about; null for checkpoints. */
  readonly decision_id: string | null;
  /** Event time (the decision's clock, the request's time on replay), ISO 8601. */
  readonly event_time: string;
  /** Wall-clock time the record was made, ISO 8601. */
  readonly wall_time: string;
  /** Hash of the previous record of the same writer (64 zeros for the first). */
  readonly prev_hash: string;
  /** SHA-256 (hex) of the canonical JSON of the record without `hash`. */
  readonly hash: string;
}

export interface Contribution {
  readonly detector: string;
  readonly code: string;
  readonly contribution: number;
}

export interface DecisionAuditRecord extends AuditRecordHeader {
  readonly kind: "decision";
  /** The request with the configured fields masked. */
  readonly request: JsonObject;
  /** Identity key `type:id` of the subject, as in state. */
  readonly subject: string;
  readonly control_path: ControlPath;
  readonly decision: boolean;
  readonly score: number;
  readonly band: RiskBand;
  readonly contributions: readonly Contribution[];
  readonly segment: string;
  readonly matched: readonly MatchedRule[];
  readonly findings: readonly Finding[];
  readonly obligations: readonly Obligation[];
  readonly reasons: readonly Reason[];
  readonly extras: JsonObject;
  readonly policy: { readonly id: string; readonly revision: string };
  readonly engine_version: string;
  readonly latency_us: number;
  readonly timings: Decision["timings"];
  readonly errors: readonly DecisionError[];
  readonly shadow: boolean;
}

export interface OutcomeAuditRecord extends AuditRecordHeader {
  readonly kind: "outcome";
  readonly outcome: Outcome;
}

/** Where retention cut a writer's chain: the first kept seq and the hash it links to. */
export interface RetentionCut {
  readonly writer_id: string;
  readonly seq: number;
  readonly prev_hash: string;
}

export interface CheckpointBody {
  /** `periodic` (every N records or T seconds), `close` (on shutdown) or `retention` (after a cut). */
  readonly reason: "periodic" | "close" | "retention";
  /** The chain head the checkpoint vouches for: the record just before it. */
  readonly head_seq: number;
  readonly head_hash: string;
  /** Records in the chain up to and including the head (retention does not lower it). */
  readonly count: number;
  /** Compact JWS over `{writer_id, head_seq, head_hash, count, time}` when a signing key is set. */
  readonly jws?: string;
  /** Retention only: records written before this time were deleted. */
  readonly before?: string;
  readonly cuts?: readonly RetentionCut[];
}

export interface CheckpointAuditRecord extends AuditRecordHeader {
  readonly kind: "checkpoint";
  readonly checkpoint: CheckpointBody;
}

export type AuditRecordV1 = DecisionAuditRecord | OutcomeAuditRecord | CheckpointAuditRecord;

/** A record before it is placed into the chain. */
export type UnchainedRecord<R extends AuditRecordV1 = AuditRecordV1> = R extends AuditRecordV1
  ? Omit<R, "seq" | "writer_id" | "prev_hash" | "hash">
  : never;

/** How requests are masked while records are built. */
export interface RecordMasking {
  readonly mask: (request: JsonObject) => JsonObject;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function decisionRecord(entry: DecisionEntry, masking: RecordMasking): UnchainedRecord<DecisionAuditRecord> {
  const d = entry.decision;
  return {
    schema: AUDIT_SCHEMA,
    kind: "decision",
    decision_id: d.id,
    event_time: iso(d.time),
    wall_time: iso(entry.wallTime),
    request: masking.mask(entry.request as unknown as JsonObject),
    subject: identityKey(entry.request.subject),
    control_path: d.controlPath,
    decision: d.decision,
    score: d.score,
    band: d.band,
    contributions: d.findings.map((f) => ({ detector: f.detector, code: f.code, contribution: f.contribution })),
    segment: d.segment,
    matched: d.matched,
    findings: d.findings,
    obligations: d.obligations,
    reasons: d.reasons,
    extras: d.extras,
    policy: { id: d.policy.id, revision: d.policy.revision },
    engine_version: entry.engineVersion,
    latency_us: d.timings.totalUs,
    timings: d.timings,
    errors: d.errors,
    shadow: entry.shadow === true,
  };
}

export function outcomeRecord(entry: OutcomeEntry): UnchainedRecord<OutcomeAuditRecord> {
  return {
    schema: AUDIT_SCHEMA,
    kind: "outcome",
    decision_id: entry.decisionId,
    event_time: iso(entry.wallTime),
    wall_time: iso(entry.wallTime),
    outcome: entry.outcome,
  };
}

/** Rebuilds the engine's entry from a decision record (the request comes back masked). */
export function entryOfRecord(record: DecisionAuditRecord): DecisionEntry {
  const decision: Decision = {
    id: record.decision_id ?? "",
    controlPath: record.control_path,
    decision: record.decision,
    score: record.score,
    band: record.band,
    segment: record.segment,
    reasons: record.reasons,
    findings: record.findings,
    obligations: record.obligations,
    matched: record.matched,
    policy: record.policy,
    errors: record.errors,
    time: Date.parse(record.event_time),
    extras: record.extras,
    timings: record.timings,
  };
  return {
    request: record.request as unknown as AccessRequest,
    decision,
    wallTime: Date.parse(record.wall_time),
    engineVersion: record.engine_version,
    shadow: record.shadow,
  };
}

export function outcomeEntryOfRecord(record: OutcomeAuditRecord): OutcomeEntry {
  return { decisionId: record.decision_id ?? "", outcome: record.outcome, wallTime: Date.parse(record.wall_time) };
}
