/** The compiled policy: immutable, checked, ready to evaluate. The hot path parses nothing. */

import type { BandBounds } from "../model/band.js";
import type { ControlPath } from "../model/control-path.js";
import type { Reason } from "../model/decision.js";
import type { JsonObject, JsonValue } from "../model/request.js";

/** Variables a condition is evaluated against. */
export interface ConditionVars {
  subject: unknown;
  action: unknown;
  resource: unknown;
  context: unknown;
  entities: unknown;
  enrichment: unknown;
  /** Fired findings by detector id (rules only). */
  findings?: unknown;
  score?: number;
  band?: string;
  segment?: string;
  /** Ids of detectors that failed (rules only). */
  errors?: readonly string[];
}

/** A compiled CEL condition; returns false (and reports the error) when it cannot be evaluated. */
export interface Condition {
  readonly source: string;
  evaluate(vars: ConditionVars): { value: boolean; error?: string };
}

export interface CompiledRule {
  readonly id: string;
  readonly when: Condition;
  readonly path: ControlPath;
  readonly reason: Reason;
  /** Extra obligation properties this rule adds (merged over the segment's path settings). */
  readonly obligations?: JsonObject;
}

export interface LadderStep {
  /** Lower bound (inclusive) of the score for this step. */
  readonly at: number;
  readonly path: ControlPath;
}

/** Per-path settings that shape obligations: `step_up.acr_values`, `throttle.retry_after`, … */
export type PathSettings = Readonly<Partial<Record<ControlPath | "machine_step_up", JsonObject>>>;

export interface CompiledSegment {
  readonly name: string;
  readonly description: string;
  readonly when: Condition;
  /** Ids of the detectors that run for this segment. */
  readonly detectors: readonly string[];
  /** Weight per detector id (default 1). */
  readonly weights: Readonly<Record<string, number>>;
  /** Authorization grants: when present, a request no grant matches gets `otherwise`. */
  readonly authorize?: {
    readonly rules: readonly CompiledRule[];
    readonly otherwise: ControlPath;
    readonly reason: Reason;
  };
  /** Score ladder, ascending by `at`; empty for pure authorization segments. */
  readonly ladder: readonly LadderStep[];
  readonly rules: readonly CompiledRule[];
  readonly onError: ControlPath;
  readonly paths: PathSettings;
}

export interface CompiledPolicy {
  readonly id: string;
  readonly revision: string;
  readonly description: string;
  readonly file: string;
  readonly bands: BandBounds;
  /** Segments in order; the first whose `when` holds decides. The last is the catch-all. */
  readonly segments: readonly CompiledSegment[];
  /** Entity data (users, roles, groups, records) loaded from the policy's entities file. */
  readonly entities: Readonly<Record<string, JsonValue>>;
  /** Parameter overrides per detector id, including `points`. */
  readonly detectorParams: Readonly<Record<string, Readonly<Record<string, JsonValue>>>>;
  /** Which entity collections the AuthZEN search endpoints draw candidates from; absent: no search. */
  readonly search?: SearchSettings;
}

/** Where the candidates of one AuthZEN type live: an entity collection, keyed by entity id. */
export interface SearchCollection {
  /** The name of the collection in the policy's `entities` (`users`, `records`, …). */
  readonly entities: string;
  /** The attribute of each entity whose object becomes the candidate's `properties`, if any. */
  readonly properties?: string;
}

/** A policy's `search:` section: what the search endpoints may return. */
export interface SearchSettings {
  /** AuthZEN subject type → its collection. */
  readonly subjects: Readonly<Record<string, SearchCollection>>;
  /** AuthZEN resource type → its collection. */
  readonly resources: Readonly<Record<string, SearchCollection>>;
  /** Candidate action names for action search, in the order they are answered. */
  readonly actions: readonly string[];
}
