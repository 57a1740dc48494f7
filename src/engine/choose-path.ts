/**
 * Choosing the control path inside a segment: authorization grants, the score ladder and the risk
 * rules each propose a path, `on_error` joins when something failed, and the most restrictive wins.
 */

import type { ControlPath } from "../model/control-path.js";
import { mostRestrictive } from "../model/control-path.js";
import type { DecisionError, MatchedRule, Reason } from "../model/decision.js";
import type { Finding } from "../model/finding.js";
import type { JsonObject } from "../model/request.js";
import type { CompiledRule, CompiledSegment, ConditionVars } from "../policy/compiled.js";

export interface PathChoice {
  readonly path: ControlPath;
  readonly reasons: Reason[];
  readonly matched: MatchedRule[];
  readonly errors: DecisionError[];
  /** Obligation properties added by the rules that set the winning path. */
  readonly ruleObligations: JsonObject[];
}

export interface PathInputs {
  readonly segment: CompiledSegment;
  readonly vars: ConditionVars;
  readonly findings: readonly Finding[];
  readonly score: number;
  /** Whether detection or state failed: `on_error` then joins the candidates. */
  readonly failed: boolean;
  /** Why it failed, as a reason. */
  readonly failure?: Reason;
  /** Whether to use the ladder (false when state was unavailable and scores mean nothing). */
  readonly useLadder: boolean;
}

const LOW_RISK: Reason = Object.freeze({
  code: "low_risk",
  message: "no risk signal above the segment's first threshold",
});

/** The path proposed so far, its reasons and obligations; a class so a decision allocates no closures. */
class Candidates {
  path: ControlPath = "allow";
  reasons: Reason[] = [];
  ruleObligations: JsonObject[] = [];
  readonly matched: MatchedRule[] = [];

  consider(candidate: ControlPath, why: readonly Reason[], rule: MatchedRule, obligations?: JsonObject): void {
    this.matched.push(rule);
    if (candidate === this.path) {
      for (const r of why) this.reasons.push(r);
      if (obligations) this.ruleObligations.push(obligations);
    } else if (mostRestrictive(this.path, candidate) === candidate) {
      this.path = candidate;
      this.reasons = why.slice();
      this.ruleObligations = obligations ? [obligations] : [];
    }
  }
}

export function choosePath(input: PathInputs): PathChoice {
  const { segment, vars } = input;
  const errors: DecisionError[] = [];
  const c = new Candidates();

  if (segment.authorize) {
    let granted: CompiledRule | undefined;
    for (const rule of segment.authorize.rules) {
      if (evaluate(rule, vars, errors)) {
        granted = rule;
        break;
      }
    }
    if (granted) {
      c.matched.push({ id: granted.id, kind: "authorize", path: "allow" });
    } else {
      c.consider(segment.authorize.otherwise, [segment.authorize.reason], {
        id: "authorize",
        kind: "default",
        path: segment.authorize.otherwise,
      });
    }
  }

  if (input.useLadder && segment.ladder.length > 0) {
    const step = ladderStep(segment, input.score);
    if (step) {
      const why = step.path === "allow" ? [] : ladderReasons(input.findings);
      c.consider(step.path, why, { id: `ladder@${step.at}`, kind: "ladder", path: step.path });
    }
  }

  for (const rule of segment.rules) {
    if (evaluate(rule, vars, errors)) {
      c.consider(rule.path, [rule.reason], { id: rule.id, kind: "rule", path: rule.path }, rule.obligations);
    }
  }

  if (input.failed) {
    const why = input.failure ?? { code: "detector_error", message: "a risk signal could not be evaluated" };
    c.consider(segment.onError, [why], { id: "on_error", kind: "on_error", path: segment.onError });
  }

  let reasons = c.reasons;
  if (c.path === "allow" && reasons.length === 0 && !segment.authorize) reasons = [LOW_RISK];
  return { path: c.path, reasons: dedupe(reasons), matched: c.matched, errors, ruleObligations: c.ruleObligations };
}

function ladderStep(segment: CompiledSegment, score: number) {
  let chosen = segment.ladder[0];
  for (const step of segment.ladder) if (score >= step.at) chosen = step;
  return chosen;
}

/** The ladder's reasons are the findings that added to the score, largest first. */
function ladderReasons(findings: readonly Finding[]): Reason[] {
  return findings
    .filter((f) => f.contribution > 0)
    .sort((a, b) => b.contribution - a.contribution)
    .map((f) => ({ code: f.code, message: f.message }));
}

function evaluate(rule: CompiledRule, vars: ConditionVars, errors: DecisionError[]): boolean {
  const r = rule.when.evaluate(vars);
  if (r.error !== undefined) errors.push({ code: "CONDITION_ERROR", message: r.error, source: rule.id });
  return r.value;
}

function dedupe(reasons: Reason[]): Reason[] {
  if (reasons.length < 2) return reasons;
  const seen = new Set<string>();
  return reasons.filter((r) => {
    if (seen.has(r.code)) return false;
    seen.add(r.code);
    return true;
  });
}
