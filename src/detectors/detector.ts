/**
 * The detector interface. A detector is pure: it declares the state it needs, reads a snapshot,
 * and returns at most one finding plus the state updates the request causes. It never does I/O.
 */

import type { Enrichment } from "../enrich/enrichment.js";
import type { DetectorFinding } from "../model/finding.js";
import type { AccessRequest, IdentityKind, JsonValue } from "../model/request.js";
import type { ClaimRead, ClaimSpec, CounterRead, CounterSpec, Profile, StateUpdate } from "../state/port.js";

/** Per-detector parameters from the policy's `detectors:` section (thresholds, windows, points). */
export type DetectorParams = Readonly<Record<string, JsonValue>>;

export interface DetectorContext {
  readonly request: AccessRequest;
  /** `type:id` of the subject: the key of its profile. */
  readonly subjectKey: string;
  readonly kind: IdentityKind;
  readonly enrichment: Enrichment;
  /** Decision time, epoch ms (event time on replay). Captured once per decision. */
  readonly now: number;
  /** Whether the request is a login attempt (`action.name == "login"`). */
  readonly isLogin: boolean;
  readonly params: DetectorParams;
}

/** Collects the state a detector needs; the engine merges every detector's needs into one read. */
export interface StateNeeds {
  profile(key: string): void;
  counter(spec: CounterSpec): void;
  claim(spec: ClaimSpec): void;
}

/** A read-only view of the snapshot; missing entries read as empty. */
export interface StateView {
  profile(key: string): Profile;
  counter(key: string): CounterRead;
  claim(key: string): ClaimRead | undefined;
}

/** Where a detector puts the state updates a request causes. */
export interface UpdateSink {
  /** Always applied: counters, rates, token registries — facts about what happened. */
  observe(update: StateUpdate): void;
  /**
   * Applied only when the decision is trusted (a low-risk allow), or later on a trusted outcome
   * (step-up passed, approved, false positive): what becomes "known" for this identity.
   */
  learn(update: StateUpdate): void;
}

export interface Detector {
  /** Stable id, snake_case, used in policies and findings, e.g. `impossible_travel`. */
  readonly id: string;
  /** One sentence: what it detects. */
  readonly description: string;
  /** Default parameters; the policy may override any of them. */
  readonly defaults: DetectorParams;
  /** Whether the detector has anything to say about this request (skip otherwise). */
  applies(ctx: DetectorContext): boolean;
  needs(ctx: DetectorContext, needs: StateNeeds): void;
  /** A finding, or undefined when nothing is unusual. May throw: the engine records an error finding. */
  detect(ctx: DetectorContext, state: StateView): DetectorFinding | undefined;
  /** State updates caused by this request. */
  update?(ctx: DetectorContext, state: StateView, sink: UpdateSink): void;
}

/** Reads a numeric parameter, falling back to the detector default. */
export function numParam(ctx: DetectorContext, name: string, fallback: number): number {
  const v = ctx.params[name];
  return typeof v === "number" && Number.isFinite(v) ? v : fallback;
}

/** Reads a string-list parameter. */
export function listParam(ctx: DetectorContext, name: string, fallback: readonly string[]): readonly string[] {
  const v = ctx.params[name];
  return Array.isArray(v) && v.every((x) => typeof x === "string") ? (v as string[]) : fallback;
}
