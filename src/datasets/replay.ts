/**
 * Replays labelled requests through an engine in order, answering every step-up and hold the way the
 * real person or attacker would, and tallies where attack and legitimate traffic was routed.
 */

import type { Engine } from "../engine/engine.js";
import type { RiskBand } from "../model/band.js";
import { CONTROL_PATHS, type ControlPath } from "../model/control-path.js";
import type { Decision } from "../model/decision.js";
import type { Outcome } from "../model/outcome.js";
import { identityKey } from "../model/request.js";
import type { LabelledRequest } from "./labelled-request.js";

export interface ReplayedEvent {
  readonly origin: string;
  readonly attack: boolean;
  /** `type:id` of the subject. */
  readonly subject: string;
  readonly action: string;
  /** `type:id` of the resource. */
  readonly resource: string;
  readonly time: string;
  readonly controlPath: ControlPath;
  readonly score: number;
  readonly band: RiskBand;
  readonly segment: string;
  /** Detectors that reported a finding (failed detectors are left out). */
  readonly detectors: readonly string[];
  /** The code of each of those findings, in the same order (e.g. `first_seen_identity` for `new_device`). */
  readonly codes: readonly string[];
  readonly reasons: readonly string[];
  /** The outcome fed back, when the path asked the person (or attacker) for something. */
  readonly outcome?: Outcome;
}

export interface ReplayTally {
  readonly events: number;
  readonly byPath: Readonly<Record<ControlPath, number>>;
  /** Events routed anywhere but `allow`. */
  readonly offFastPath: number;
  /** Findings per detector id. */
  readonly findings: Readonly<Record<string, number>>;
}

export interface ReplayReport {
  readonly events: readonly ReplayedEvent[];
  readonly attack: ReplayTally;
  readonly legitimate: ReplayTally;
}

/**
 * What a real identity answers: a step-up is passed by its owner and failed by an attacker who has
 * the password but not the second factor; a hold is approved for the owner and rejected for the
 * attacker. Every other path asks nothing, so nothing comes back, and learning held back for it
 * simply expires.
 */
export function outcomeFor(path: ControlPath, attack: boolean): Outcome | undefined {
  if (path === "step_up") return attack ? "step_up_failed" : "step_up_passed";
  if (path === "hold") return attack ? "rejected" : "approved";
  return undefined;
}

function emptyByPath(): Record<ControlPath, number> {
  return Object.fromEntries(CONTROL_PATHS.map((p) => [p, 0])) as Record<ControlPath, number>;
}

function tally(events: readonly ReplayedEvent[]): ReplayTally {
  const byPath = emptyByPath();
  const findings: Record<string, number> = {};
  for (const e of events) {
    byPath[e.controlPath]++;
    for (const d of e.detectors) findings[d] = (findings[d] ?? 0) + 1;
  }
  return { events: events.length, byPath, offFastPath: events.length - byPath.allow, findings };
}

function eventOf(item: LabelledRequest, decision: Decision, outcome: Outcome | undefined): ReplayedEvent {
  const found = decision.findings.filter((f) => f.error === undefined);
  return {
    origin: item.origin,
    attack: item.attack,
    subject: identityKey(item.request.subject),
    action: item.request.action.name,
    resource: `${item.request.resource.type}:${item.request.resource.id}`,
    time: item.request.context?.time ?? "",
    controlPath: decision.controlPath,
    score: decision.score,
    band: decision.band,
    segment: decision.segment,
    detectors: found.map((f) => f.detector),
    codes: found.map((f) => f.code),
    reasons: decision.reasons.map((r) => r.code),
    ...(outcome ? { outcome } : {}),
  };
}

/** Decides each request in the order given and feeds back the outcome its path calls for. */
export async function replay(engine: Engine, requests: readonly LabelledRequest[]): Promise<ReplayReport> {
  const events: ReplayedEvent[] = [];
  for (const item of requests) {
    const decision = await engine.decide(item.request);
    const outcome = outcomeFor(decision.controlPath, item.attack);
    if (outcome) await engine.recordOutcome(decision.id, outcome);
    events.push(eventOf(item, decision, outcome));
  }
  return {
    events,
    attack: tally(events.filter((e) => e.attack)),
    legitimate: tally(events.filter((e) => !e.attack)),
  };
}
