/**
 * Replays labelled traffic through an engine in time order, answering challenges the way the real
 * sender would (a legitimate user passes step-up, an attacker fails it), and measures what was
 * caught and what friction legitimate users felt.
 */

import type { Engine } from "../engine/engine.js";
import type { ControlPath } from "../model/control-path.js";
import { CONTROL_PATHS } from "../model/control-path.js";
import { PERSISTENT } from "../simulate/attacks.js";
import { type AttackScenario, outcomeFor, type SimEvent } from "../simulate/event.js";

export interface Confusion {
  /** Attack requests diverted off the fast path. */
  tp: number;
  /** Attack requests allowed. */
  fn: number;
  /** Legitimate requests diverted (after warm-up). */
  fp: number;
  /** Legitimate requests allowed (after warm-up). */
  tn: number;
}

export interface ScenarioResult {
  incidents: number;
  caught: number;
  missed: string[];
}

export interface EvaluationReport {
  requests: number;
  skipped: number;
  warmupEnds: number;
  scenarios: Partial<Record<AttackScenario, ScenarioResult>>;
  incidents: number;
  caught: number;
  /** Share of attack incidents caught. */
  catchRate: number;
  /** Legitimate requests after warm-up, and those that left the fast path. */
  legitimate: number;
  legitimateDiverted: number;
  friction: number;
  /** The same for people and for machine identities separately. */
  frictionByKind: { people: { requests: number; diverted: number }; machines: { requests: number; diverted: number } };
  /** Machine decisions that carried an interactive MFA step-up obligation (must be 0). */
  machineMfaPrompts: number;
  /** Human attack incidents allowed all the way through (must be 0). */
  humanAttacksAllowed: number;
  /** Median per-user step-up rate of legitimate logins, by login-history length. */
  stepUpByHistory: Array<{ history: string; users: number; medianStepUpRate: number; meanStepUpRate: number }>;
  segments: Record<string, Confusion & { paths: Partial<Record<ControlPath, number>> }>;
  decisionErrors: number;
  elapsedMs: number;
}

export interface EvaluateOptions {
  /** Legitimate traffic before this time (epoch ms) is warm-up: decided and learned from, not scored. */
  warmupEnds: number;
  onProgress?: (done: number, total: number) => void;
}

const HISTORY_BUCKETS: ReadonlyArray<[number, number, string]> = [
  [0, 4, "0-4"],
  [5, 9, "5-9"],
  [10, 19, "10-19"],
  [20, 49, "20-49"],
  [50, Number.POSITIVE_INFINITY, "50+"],
];

interface IncidentState {
  scenario: AttackScenario;
  human: boolean;
  done: boolean;
  caught: boolean;
  damagingSeen: number;
  damagingDiverted: number;
}

export async function evaluate(
  engine: Engine,
  events: readonly SimEvent[],
  options: EvaluateOptions,
): Promise<EvaluationReport> {
  const started = Date.now();
  const incidents = new Map<string, IncidentState>();
  const segments: EvaluationReport["segments"] = {};
  const logins = new Map<string, number>();
  // user → history bucket → [logins, step-ups]
  const stepUps = new Map<string, Map<string, [number, number]>>();
  let legitimate = 0;
  let legitimateDiverted = 0;
  const byKind = { people: { requests: 0, diverted: 0 }, machines: { requests: 0, diverted: 0 } };
  let machineMfaPrompts = 0;
  let decisionErrors = 0;
  let skipped = 0;
  let done = 0;

  for (const e of events) {
    done++;
    if (options.onProgress && done % 2000 === 0) options.onProgress(done, events.length);
    const label = e.label;
    let inc: IncidentState | undefined;
    if (label.incident && label.scenario) {
      inc = incidents.get(label.incident);
      if (!inc) {
        inc = {
          scenario: label.scenario,
          human: label.human,
          done: false,
          caught: false,
          damagingSeen: 0,
          damagingDiverted: 0,
        };
        incidents.set(label.incident, inc);
      }
      if (inc.done) {
        skipped++;
        continue;
      }
    }
    const d = await engine.decide(e.request);
    if (d.errors.some((x) => x.code !== "CONDITION_ERROR")) decisionErrors++;
    const path = d.controlPath;
    const off = path !== "allow";
    if (!label.human && d.obligations.some((o) => o.type === "step-up")) machineMfaPrompts++;

    let seg = segments[d.segment];
    if (!seg) {
      seg = { tp: 0, fn: 0, fp: 0, tn: 0, paths: {} };
      segments[d.segment] = seg;
    }
    seg.paths[path] = (seg.paths[path] ?? 0) + 1;

    if (inc) {
      if (off) seg.tp++;
      else seg.fn++;
      if (PERSISTENT.has(inc.scenario)) {
        if (label.damaging) {
          inc.damagingSeen++;
          if (off) inc.damagingDiverted++;
        }
      } else {
        const stops = off && !(inc.scenario === "mfa_fatigue" && path === "step_up");
        if (stops) {
          inc.caught = true;
          inc.done = true;
        } else if (label.damaging) {
          inc.done = true;
        }
      }
    } else if (label.actor === "legitimate" && e.at >= options.warmupEnds) {
      legitimate++;
      const kind = label.human ? byKind.people : byKind.machines;
      kind.requests++;
      if (off) kind.diverted++;
      if (off) {
        legitimateDiverted++;
        seg.fp++;
      } else {
        seg.tn++;
      }
    }

    if (
      label.actor === "legitimate" &&
      label.human &&
      e.request.action.name === "login" &&
      e.request.context?.authn?.result === "success"
    ) {
      const n = logins.get(label.identity) ?? 0;
      logins.set(label.identity, n + 1);
      const bucket = HISTORY_BUCKETS.find(([lo, hi]) => n >= lo && n <= hi)?.[2] ?? "50+";
      let perUser = stepUps.get(label.identity);
      if (!perUser) {
        perUser = new Map();
        stepUps.set(label.identity, perUser);
      }
      const cell = perUser.get(bucket) ?? [0, 0];
      cell[0]++;
      if (path === "step_up") cell[1]++;
      perUser.set(bucket, cell);
    }

    const outcome = outcomeFor(label, path);
    if (outcome) await engine.recordOutcome(d.id, outcome);
  }

  const scenarios: EvaluationReport["scenarios"] = {};
  let caught = 0;
  let humanAttacksAllowed = 0;
  for (const [id, inc] of incidents) {
    const isCaught = PERSISTENT.has(inc.scenario)
      ? inc.damagingSeen > 0 && inc.damagingDiverted === inc.damagingSeen
      : inc.caught;
    let r = scenarios[inc.scenario];
    if (!r) {
      r = { incidents: 0, caught: 0, missed: [] };
      scenarios[inc.scenario] = r;
    }
    r.incidents++;
    if (isCaught) {
      r.caught++;
      caught++;
    } else {
      r.missed.push(id);
      if (inc.human) humanAttacksAllowed++;
    }
  }

  const stepUpByHistory = HISTORY_BUCKETS.map(([, , name]) => {
    const rates: number[] = [];
    for (const perUser of stepUps.values()) {
      const cell = perUser.get(name);
      if (cell && cell[0] > 0) rates.push(cell[1] / cell[0]);
    }
    const mean = rates.length === 0 ? 0 : rates.reduce((a, b) => a + b, 0) / rates.length;
    return { history: name, users: rates.length, medianStepUpRate: median(rates), meanStepUpRate: mean };
  });

  return {
    requests: events.length - skipped,
    skipped,
    warmupEnds: options.warmupEnds,
    scenarios,
    incidents: incidents.size,
    caught,
    catchRate: incidents.size === 0 ? 1 : caught / incidents.size,
    legitimate,
    legitimateDiverted,
    friction: legitimate === 0 ? 0 : legitimateDiverted / legitimate,
    frictionByKind: byKind,
    machineMfaPrompts,
    humanAttacksAllowed,
    stepUpByHistory,
    segments,
    decisionErrors,
    elapsedMs: Date.now() - started,
  };
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export const PATH_ORDER = CONTROL_PATHS;
