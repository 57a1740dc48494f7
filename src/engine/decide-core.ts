/**
 * The pure core of a decision. `prepare` picks the segment and says which state to read;
 * `conclude` turns the snapshot into a decision and the state updates, as data. No I/O here: the
 * engine reads state between the two and commits the updates after.
 */

import type { DetectorContext } from "../detectors/detector.js";
import { collectUpdates, type DetectorRun, detect, planState } from "../detectors/run-detectors.js";
import { viewOf } from "../detectors/state-plan.js";
import type { Enrichment } from "../enrich/enrichment.js";
import { isPermitted } from "../model/control-path.js";
import type { Decision, DecisionError, Reason } from "../model/decision.js";
import type { Finding } from "../model/finding.js";
import { type AccessRequest, identityKey, identityKindOf } from "../model/request.js";
import type { CompiledSegment, ConditionVars } from "../policy/compiled.js";
import { score } from "../scoring/score.js";
import type { StateQuery, StateSnapshot, StateUpdate } from "../state/port.js";
import { choosePath } from "./choose-path.js";
import { shapeObligations } from "./obligations.js";
import type { PolicyPlan } from "./policy-plan.js";

export interface Prepared {
  readonly plan: PolicyPlan;
  readonly request: AccessRequest;
  readonly now: number;
  readonly segment: CompiledSegment;
  readonly runs: DetectorRun[];
  readonly vars: ConditionVars;
  readonly query: StateQuery;
  readonly errors: DecisionError[];
}

const CATCH_ALL: Reason = { code: "no_segment", message: "no segment of the policy matched the request" };

/** Picks the segment (first whose `when` holds) and plans the state read for its detectors. */
export function prepare(plan: PolicyPlan, request: AccessRequest, enrichment: Enrichment, now: number): Prepared {
  const policy = plan.policy;
  const vars: ConditionVars = {
    subject: request.subject,
    action: request.action,
    resource: request.resource,
    context: request.context ?? {},
    entities: policy.entities,
    enrichment,
  };
  const errors: DecisionError[] = [];
  let segment: CompiledSegment | undefined;
  for (const s of policy.segments) {
    const r = s.when.evaluate(vars);
    if (r.error !== undefined) errors.push({ code: "CONDITION_ERROR", message: r.error, source: `segment ${s.name}` });
    if (r.value) {
      segment = s;
      break;
    }
  }
  segment ??= noSegment(policy.segments);
  vars.segment = segment.name;

  const subjectKey = identityKey(request.subject);
  const kind = identityKindOf(request.subject.type);
  const isLogin = request.action.name === "login";
  const runs: DetectorRun[] = [];
  for (const planned of plan.detectors.get(segment.name) ?? []) {
    const ctx: DetectorContext = { request, subjectKey, kind, enrichment, now, isLogin, params: planned.params };
    let applies = false;
    try {
      applies = planned.detector.applies(ctx);
    } catch {
      applies = true; // let detect() fail and record the error finding
    }
    if (applies) runs.push({ detector: planned.detector, ctx });
  }
  let query: StateQuery = { profiles: [], counters: [], claims: [] };
  if (runs.length > 0) {
    try {
      query = planState(runs).query();
    } catch (err) {
      errors.push({
        code: "DETECTOR_FAILED",
        message: err instanceof Error ? err.message : String(err),
        source: "needs",
      });
    }
  }
  return { plan, request, now, segment, runs, vars, query, errors };
}

/** A segment that denies everything, used only if a policy somehow has no matching segment. */
function noSegment(segments: readonly CompiledSegment[]): CompiledSegment {
  const last = segments[segments.length - 1];
  return {
    name: "no-segment",
    description: "no segment matched",
    when: { source: "true", evaluate: () => ({ value: true }) },
    detectors: [],
    weights: {},
    authorize: { rules: [], otherwise: "deny", reason: CATCH_ALL },
    ladder: [],
    rules: [],
    onError: "deny",
    paths: last?.paths ?? {},
  };
}

export interface Concluded {
  readonly decision: Decision;
  /** Updates to commit now: observations, plus learning when the decision is trusted. */
  readonly commit: StateUpdate[];
  /** Learning held back until a trusted outcome (empty when the decision was trusted). */
  readonly heldBack: StateUpdate[];
  readonly trusted: boolean;
}

export interface ConcludeInputs {
  readonly prepared: Prepared;
  /** Undefined when the state store failed or timed out. */
  readonly snapshot: StateSnapshot | undefined;
  readonly stateError?: string;
  readonly decisionId: string;
  readonly timings: { stateUs: number; startedAt: number };
  readonly clockUs: () => number;
}

export function conclude(input: ConcludeInputs): Concluded {
  const { prepared, snapshot } = input;
  const { segment, runs, vars, plan, request, now } = prepared;
  const policy = plan.policy;
  const errors = prepared.errors.slice();
  const t0 = input.clockUs();

  let findings: Finding[] = [];
  let failed: string[] = [];
  let observe: StateUpdate[] = [];
  let learn: StateUpdate[] = [];
  let failure: Reason | undefined;
  // Pure authorization has no detector run: nothing to find or learn.
  if (snapshot && runs.length > 0) {
    const view = viewOf(snapshot);
    const detected = detect(runs, view);
    findings = detected.findings;
    failed = detected.failed;
    const updates = collectUpdates(runs, view);
    observe = updates.observe;
    learn = updates.learn;
    for (const f of findings)
      if (f.error) errors.push({ code: f.error.code, message: f.error.message, source: f.detector });
    if (failed.length > 0) failure = { code: "detector_error", message: `could not evaluate: ${failed.join(", ")}` };
  } else if (!snapshot) {
    failed = ["state"];
    failure = { code: "state_unavailable", message: "learned state could not be read in time" };
    errors.push({ code: "STATE_UNAVAILABLE", message: input.stateError ?? "state store unavailable", source: "state" });
    findings = [
      {
        detector: "state",
        severity: "info",
        points: 0,
        contribution: 0,
        code: "state_unavailable",
        message: "learned state could not be read in time",
        evidence: {},
        error: { code: "STATE_UNAVAILABLE", message: input.stateError ?? "state store unavailable" },
      },
    ];
  }
  const t1 = input.clockUs();

  const scored = score(findings, segment.weights, policy.bands);
  const byDetector: Record<string, Finding> = {};
  for (const f of scored.findings) if (!f.error) byDetector[f.detector] = f;
  vars.findings = byDetector;
  vars.score = scored.score;
  vars.band = scored.band;
  vars.errors = failed;

  const choice = choosePath({
    segment,
    vars,
    findings: scored.findings,
    score: scored.score,
    failed: failed.length > 0,
    failure,
    useLadder: snapshot !== undefined,
  });
  for (const e of choice.errors) errors.push(e);

  const sessionId = request.context?.session?.id;
  const shaped = shapeObligations({
    path: choice.path,
    kind: identityKindOf(request.subject.type),
    settings: segment.paths,
    ruleObligations: choice.ruleObligations,
    decisionId: input.decisionId,
    subjectId: request.subject.id,
    sessionId: typeof sessionId === "string" ? sessionId : undefined,
    now,
  });
  const t2 = input.clockUs();

  const decision: Decision = {
    id: input.decisionId,
    controlPath: choice.path,
    decision: isPermitted(choice.path),
    score: scored.score,
    band: scored.band,
    segment: segment.name,
    reasons: choice.reasons,
    findings: scored.findings,
    obligations: shaped.obligations,
    matched: choice.matched,
    policy: { id: policy.id, revision: policy.revision },
    errors,
    time: now,
    extras: shaped.extras,
    timings: {
      totalUs: Math.round(t2 - input.timings.startedAt),
      stateUs: Math.round(input.timings.stateUs),
      detectUs: Math.round(t1 - t0),
      policyUs: Math.round(t2 - t1),
    },
  };

  const trusted = choice.path === "allow" && scored.band === "low" && failed.length === 0;
  return trusted
    ? { decision, commit: observe.concat(learn), heldBack: [], trusted }
    : { decision, commit: observe, heldBack: learn, trusted };
}
