/** The segmentation summary of a demo run: where the traffic went, why, which attacks were caught, and a few decisions explained. */

import { CONTROL_PATHS } from "../model/control-path.js";
import { PERSISTENT } from "../simulate/attacks.js";
import type { AttackScenario } from "../simulate/event.js";
import type { ReplayedEvent } from "./replay.js";

export interface SegmentRow {
  readonly segment: string;
  /** Requests per control path; every path of the closed union is present, zeros included. */
  readonly paths: Readonly<Record<string, number>>;
  readonly total: number;
}

export interface ScenarioCatch {
  readonly scenario: AttackScenario;
  readonly incidents: number;
  readonly caught: number;
}

export interface ExplainedDecision {
  /** Why this decision was picked: `step_up`, `deny_or_quarantine`, `machine_reissue` or `hold`. */
  readonly kind: "step_up" | "deny_or_quarantine" | "machine_reissue" | "hold";
  readonly decisionId: string;
  readonly subject: string;
  readonly action: string;
  readonly actor: "legitimate" | "attacker";
  readonly scenario: AttackScenario | undefined;
  readonly segment: string;
  readonly controlPath: string;
  readonly score: number;
  readonly band: string;
  readonly contributions: readonly { readonly code: string; readonly points: number; readonly message: string }[];
  readonly reasons: readonly { readonly code: string; readonly message: string }[];
  readonly obligations: readonly { readonly type: string; readonly properties: Readonly<Record<string, unknown>> }[];
  readonly outcome: string | undefined;
}

export interface DemoSummary {
  readonly requests: number;
  readonly legitimate: number;
  readonly attacks: number;
  readonly segments: readonly SegmentRow[];
  /** Requests per control path over all segments. */
  readonly paths: Readonly<Record<string, number>>;
  /** Reason codes of the requests that left the fast path, most frequent first. */
  readonly topReasons: readonly { readonly code: string; readonly count: number }[];
  readonly incidents: number;
  readonly caught: number;
  readonly scenarios: readonly ScenarioCatch[];
  /** Legitimate requests on the attack day that left the fast path (friction). */
  readonly legitimateDiverted: number;
  readonly legitimateOnAttackDay: number;
  readonly explained: readonly ExplainedDecision[];
}

const TOP_REASONS = 8;

function zeroPaths(): Record<string, number> {
  return Object.fromEntries(CONTROL_PATHS.map((p) => [p, 0]));
}

interface IncidentTally {
  scenario: AttackScenario;
  /** Non-persistent incidents: diverted at or before the damaging request. */
  stopped: boolean;
  /** Past the damaging request without being stopped. */
  over: boolean;
  damagingSeen: number;
  damagingDiverted: number;
}

/**
 * Same rule as `signalbox eval`: a one-shot incident is caught when one of its requests leaves the
 * fast path at or before the damaging one (a step-up does not stop MFA push bombing); a persistent
 * one (spraying, stuffing) only when every damaging request is diverted.
 */
function tallyIncidents(replayed: readonly ReplayedEvent[]): Map<string, IncidentTally> {
  const incidents = new Map<string, IncidentTally>();
  for (const { event, decision } of replayed) {
    const { incident, scenario } = event.label;
    if (!incident || !scenario) continue;
    let t = incidents.get(incident);
    if (!t) {
      t = { scenario, stopped: false, over: false, damagingSeen: 0, damagingDiverted: 0 };
      incidents.set(incident, t);
    }
    const off = decision.control_path !== "allow";
    if (PERSISTENT.has(scenario)) {
      if (event.label.damaging) {
        t.damagingSeen++;
        if (off) t.damagingDiverted++;
      }
    } else if (!t.stopped && !t.over) {
      if (off && !(scenario === "mfa_fatigue" && decision.control_path === "step_up")) t.stopped = true;
      else if (event.label.damaging) t.over = true;
    }
  }
  return incidents;
}

function isCaught(t: IncidentTally): boolean {
  return PERSISTENT.has(t.scenario) ? t.damagingSeen > 0 && t.damagingDiverted === t.damagingSeen : t.stopped;
}

function kindOf(r: ReplayedEvent): ExplainedDecision["kind"] | undefined {
  const path = r.decision.control_path;
  if (path === "hold") return "hold";
  if (path === "deny" || path === "quarantine") return "deny_or_quarantine";
  if (path !== "step_up") return undefined;
  const reissue = r.decision.obligations.some(
    (o) => o.type === "custom" && (o.properties.action === "reissue_token" || o.properties.action === "reattest"),
  );
  if (!r.event.label.human && reissue) return "machine_reissue";
  return r.event.label.human ? "step_up" : undefined;
}

function explain(kind: ExplainedDecision["kind"], r: ReplayedEvent): ExplainedDecision {
  const { event, decision } = r;
  return {
    kind,
    decisionId: decision.decision_id,
    subject: `${event.request.subject.type}:${event.request.subject.id}`,
    action: event.request.action.name,
    actor: event.label.actor,
    scenario: event.label.scenario,
    segment: decision.segment,
    controlPath: decision.control_path,
    score: decision.risk.score,
    band: decision.risk.band,
    contributions: decision.findings
      .filter((f) => f.contribution > 0)
      .sort((a, b) => b.contribution - a.contribution)
      .map((f) => ({ code: f.code, points: f.contribution, message: f.message })),
    reasons: decision.reasons,
    obligations: decision.obligations.map((o) => ({ type: o.type, properties: o.properties })),
    outcome: r.outcome,
  };
}

/** Picks one decision per kind, preferring those with the most score contributions to show. */
function pickExplained(replayed: readonly ReplayedEvent[]): ExplainedDecision[] {
  const best = new Map<ExplainedDecision["kind"], ReplayedEvent>();
  for (const r of replayed) {
    const kind = kindOf(r);
    if (!kind) continue;
    const current = best.get(kind);
    const richness = (x: ReplayedEvent) => x.decision.findings.filter((f) => f.contribution > 0).length;
    if (!current || richness(r) > richness(current)) best.set(kind, r);
  }
  const order: ExplainedDecision["kind"][] = ["step_up", "deny_or_quarantine", "machine_reissue", "hold"];
  return order.flatMap((k) => {
    const r = best.get(k);
    return r ? [explain(k, r)] : [];
  });
}

export function summarize(replayed: readonly ReplayedEvent[], attackDayStarts: number): DemoSummary {
  const bySegment = new Map<string, Record<string, number>>();
  const paths = zeroPaths();
  const reasons = new Map<string, number>();
  let legitimate = 0;
  let legitimateOnAttackDay = 0;
  let legitimateDiverted = 0;
  for (const { event, decision } of replayed) {
    let row = bySegment.get(decision.segment);
    if (!row) {
      row = zeroPaths();
      bySegment.set(decision.segment, row);
    }
    row[decision.control_path] = (row[decision.control_path] ?? 0) + 1;
    paths[decision.control_path] = (paths[decision.control_path] ?? 0) + 1;
    if (decision.control_path !== "allow")
      for (const reason of decision.reasons) reasons.set(reason.code, (reasons.get(reason.code) ?? 0) + 1);
    if (event.label.actor === "legitimate") {
      legitimate++;
      if (event.at >= attackDayStarts) {
        legitimateOnAttackDay++;
        if (decision.control_path !== "allow") legitimateDiverted++;
      }
    }
  }
  const segments = [...bySegment.entries()]
    .map(([segment, p]) => ({ segment, paths: p, total: Object.values(p).reduce((a, b) => a + b, 0) }))
    .sort((a, b) => b.total - a.total || a.segment.localeCompare(b.segment));
  const topReasons = [...reasons.entries()]
    .map(([code, count]) => ({ code, count }))
    .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code))
    .slice(0, TOP_REASONS);

  const incidents = tallyIncidents(replayed);
  const byScenario = new Map<AttackScenario, { incidents: number; caught: number }>();
  for (const t of incidents.values()) {
    const s = byScenario.get(t.scenario) ?? { incidents: 0, caught: 0 };
    s.incidents++;
    if (isCaught(t)) s.caught++;
    byScenario.set(t.scenario, s);
  }
  const scenarios = [...byScenario.entries()].map(([scenario, s]) => ({ scenario, ...s }));

  return {
    requests: replayed.length,
    legitimate,
    attacks: replayed.length - legitimate,
    segments,
    paths,
    topReasons,
    incidents: incidents.size,
    caught: scenarios.reduce((a, s) => a + s.caught, 0),
    scenarios,
    legitimateDiverted,
    legitimateOnAttackDay,
    explained: pickExplained(replayed),
  };
}
