/**
 * new_workload_identity: a machine identity presented by a workload (SPIFFE id) or CI runner it has not used
 * before; an unattested new runner is worse than an attested one.
 */

import type { DetectorFinding, Severity } from "../model/finding.js";
import type { JsonObject } from "../model/request.js";
import { type Detector, type DetectorContext, numParam } from "./detector.js";
import { freshSet, freshSince, seeUpdate } from "./learned-values.js";
import { mayTeach } from "./login-attempt.js";

const ID = "new_workload_identity";

interface Presented {
  readonly spiffeId?: string;
  readonly runnerId?: string;
  readonly attested: boolean;
}

interface Candidate {
  readonly severity: Severity;
  readonly points: number;
  readonly code: string;
  readonly message: string;
}

export const newWorkloadIdentityDetector: Detector = {
  id: ID,
  description: "a machine identity used from a workload or CI runner it has not used before",
  defaults: {
    /** Points for a SPIFFE id new to an established identity (high). */
    points: 50,
    /** Points for a new CI runner that is attested (medium). */
    runner_points: 30,
    /** Points for a new CI runner that is not attested (high). */
    unattested_runner_points: 60,
    /** Points for an identity with no workload history whose runner is not attested (low). */
    first_seen_points: 10,
    /** Most workloads and runners remembered per identity, each. */
    cap: 100,
    max_age_days: 180,
  },

  applies(ctx) {
    if (ctx.kind !== "machine") return false;
    const w = ctx.request.context?.workload;
    return isPresent(w?.spiffe_id) || isPresent(w?.runner_id);
  },

  needs(ctx, needs) {
    needs.profile(ctx.subjectKey);
  },

  detect(ctx, state): DetectorFinding | undefined {
    const p = presentedOf(ctx);
    const profile = state.profile(ctx.subjectKey);
    const since = freshSince(ctx);
    const workloads = freshSet(profile, "workloads", since);
    const runners = freshSet(profile, "runners", since);
    const evidence: JsonObject = {
      spiffe_id: p.spiffeId ?? null,
      runner_id: p.runnerId ?? null,
      attested: p.attested,
      known_workloads: workloads.size,
      known_runners: runners.size,
    };
    if (workloads.size === 0 && runners.size === 0) return firstSeen(ctx, p, evidence);
    const found: Candidate[] = [];
    if (p.spiffeId !== undefined && !workloads.has(p.spiffeId)) {
      found.push({
        severity: "high",
        points: numParam(ctx, "points", 50),
        code: "new_workload",
        message: `workload "${p.spiffeId}" not used by this identity before`,
      });
    }
    if (p.runnerId !== undefined && !runners.has(p.runnerId)) {
      found.push(
        p.attested
          ? {
              severity: "medium",
              points: numParam(ctx, "runner_points", 30),
              code: "new_ci_runner",
              message: `attested ci runner "${p.runnerId}" not used by this identity before`,
            }
          : {
              severity: "high",
              points: numParam(ctx, "unattested_runner_points", 60),
              code: "new_ci_runner",
              message: `unattested ci runner "${p.runnerId}" not used by this identity before`,
            },
      );
    }
    const worst = found.sort((a, b) => b.points - a.points)[0];
    if (!worst) return undefined;
    evidence.new = found.map((c) => c.code);
    return { ...worst, evidence };
  },

  update(ctx, _state, sink) {
    if (!mayTeach(ctx)) return;
    const p = presentedOf(ctx);
    if (p.spiffeId !== undefined) sink.learn(seeUpdate(ctx, "workloads", p.spiffeId, 100));
    if (p.runnerId !== undefined) sink.learn(seeUpdate(ctx, "runners", p.runnerId, 100));
  },
};

/**
 * A machine identity with no workload history is normal right after a deployment, so it stays silent unless
 * its runner is not attested: then a weak `first_seen_identity` finding.
 */
function firstSeen(ctx: DetectorContext, p: Presented, evidence: JsonObject): DetectorFinding | undefined {
  if (p.runnerId === undefined || p.attested) return undefined;
  return {
    severity: "low",
    points: numParam(ctx, "first_seen_points", 10),
    code: "first_seen_identity",
    message: `identity with no workload history used from unattested ci runner "${p.runnerId}"`,
    evidence,
  };
}

function isPresent(id: unknown): id is string {
  return typeof id === "string" && id !== "";
}

function presentedOf(ctx: DetectorContext): Presented {
  const w = ctx.request.context?.workload;
  const spiffe = w?.spiffe_id;
  const runner = w?.runner_id;
  const attested = w?.attested === true;
  if (isPresent(spiffe))
    return isPresent(runner) ? { spiffeId: spiffe, runnerId: runner, attested } : { spiffeId: spiffe, attested };
  return isPresent(runner) ? { runnerId: runner, attested } : { attested };
}
