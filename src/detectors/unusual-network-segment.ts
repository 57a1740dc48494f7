/** unusual_network_segment: a machine identity calling from a network segment (or IP /24) it has not used before. */

import type { DetectorFinding } from "../model/finding.js";
import { type Detector, type DetectorContext, numParam } from "./detector.js";
import { freshSince, freshValues, isKnown, seeUpdate } from "./learned-values.js";
import { mayTeach } from "./login-attempt.js";
import { sourcePrefix } from "./source-network.js";

const ID = "unusual_network_segment";
const FIELD = "segments";

interface Placement {
  /** What is judged: the PEP's segment name when given, else the source prefix. */
  readonly value: string;
  readonly source: "network_segment" | "ip_prefix";
  /** Everything worth learning, so a later request carrying only one of the two is still recognised. */
  readonly learnable: readonly string[];
}

export const unusualNetworkSegmentDetector: Detector = {
  id: ID,
  description: "a machine identity calling from a network segment it has not used before",
  defaults: {
    /** Points for a segment new to an established identity (medium). */
    points: 35,
    /** Most segments remembered per identity. */
    cap: 50,
    max_age_days: 180,
  },

  applies(ctx) {
    return ctx.kind === "machine" && placementOf(ctx) !== undefined;
  },

  needs(ctx, needs) {
    needs.profile(ctx.subjectKey);
  },

  detect(ctx, state): DetectorFinding | undefined {
    const p = placementOf(ctx);
    if (!p) return undefined;
    const profile = state.profile(ctx.subjectKey);
    const since = freshSince(ctx);
    // The usual case, a known segment, is answered without copying the learned set.
    if (isKnown(profile, FIELD, p.value, since)) return undefined;
    const known = freshValues(profile, FIELD, since);
    // A machine identity seen for the first time has no usual segment yet; deployments create them often.
    if (known.size === 0 || known.has(p.value)) return undefined;
    return {
      severity: "medium",
      points: numParam(ctx, "points", 35),
      code: ID,
      message: `call from ${p.source === "network_segment" ? "network segment" : "network"} "${p.value}" not used by this identity before`,
      evidence: {
        segment: p.value,
        source: p.source,
        known_segments: known.size,
        known_examples: [...known.keys()].slice(0, 5),
      },
    };
  },

  update(ctx, _state, sink) {
    const p = placementOf(ctx);
    if (!p || !mayTeach(ctx)) return;
    for (const v of p.learnable) sink.learn(seeUpdate(ctx, FIELD, v, 50));
  },
};

function placementOf(ctx: DetectorContext): Placement | undefined {
  const named = ctx.request.context?.workload?.network_segment;
  const segment = typeof named === "string" && named !== "" ? named : undefined;
  const prefix = sourcePrefix(ctx);
  if (segment !== undefined) {
    return { value: segment, source: "network_segment", learnable: prefix ? [segment, prefix] : [segment] };
  }
  if (prefix !== undefined) return { value: prefix, source: "ip_prefix", learnable: [prefix] };
  return undefined;
}
