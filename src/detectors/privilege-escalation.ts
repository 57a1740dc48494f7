/** privilege_escalation: a privileged action this identity has never performed (or not within `max_age_days`). */

import type { DetectorFinding } from "../model/finding.js";
import { matchingPattern } from "./action-pattern.js";
import type { Detector, DetectorContext } from "./detector.js";
import { listParam, numParam } from "./detector.js";
import { freshSince, freshValues, hasLearnedAnything, isKnown, seeUpdate } from "./learned-values.js";

const ID = "privilege_escalation";
const FIELD = "privileged_actions";
const DEFAULT_PRIVILEGED = ["admin.*", "iam.*", "payout.change", "secrets.read", "secrets.write", "keys.*"];

export const privilegeEscalationDetector: Detector = {
  id: ID,
  description: "a privileged action this identity has never performed before",
  defaults: {
    /**
     * Points for an established identity performing a privileged action new to it (medium). Below a
     * privileged segment's deny threshold even with a new device: a step-up can settle a first-time
     * privileged act, so it should not be refused outright.
     */
    points: 35,
    /** Points for a never-seen identity whose first known act is privileged (low). */
    first_seen_points: 10,
    /** Action names (exact, or `family.*`) that count as privileged besides `action.properties.privileged`. */
    privileged_actions: DEFAULT_PRIVILEGED,
    /** Most privileged actions remembered per identity. */
    cap: 50,
    max_age_days: 180,
  },

  applies(ctx) {
    return !ctx.isLogin && privilegeOf(ctx) !== undefined;
  },

  needs(ctx, needs) {
    needs.profile(ctx.subjectKey);
  },

  detect(ctx, state): DetectorFinding | undefined {
    const why = privilegeOf(ctx);
    if (why === undefined) return undefined;
    const action = ctx.request.action.name;
    const profile = state.profile(ctx.subjectKey);
    const since = freshSince(ctx);
    if (isKnown(profile, FIELD, action, since)) return undefined;
    if (!hasLearnedAnything(profile)) {
      return {
        severity: "low",
        points: numParam(ctx, "first_seen_points", 10),
        code: "first_seen_identity",
        message: `first privileged action "${action}" from an identity with no history`,
        evidence: { action, privileged_because: why, known_privileged_actions: 0 },
      };
    }
    const known = [...freshValues(profile, FIELD, since).keys()];
    return {
      severity: "medium",
      points: numParam(ctx, "points", 35),
      code: ID,
      message: `privileged action "${action}" never performed by this identity`,
      evidence: {
        action,
        privileged_because: why,
        known_privileged_actions: known.length,
        // A few examples are enough to explain; the full set can be long.
        known_examples: known.slice(0, 5),
      },
    };
  },

  update(ctx, _state, sink) {
    sink.learn(seeUpdate(ctx, FIELD, ctx.request.action.name, 50));
  },
};

/** Why the action is privileged: `property` or the matching pattern; undefined when it is not. */
function privilegeOf(ctx: DetectorContext): string | undefined {
  const action = ctx.request.action;
  if (action.properties?.privileged === true) return "property";
  return matchingPattern(action.name, listParam(ctx, "privileged_actions", DEFAULT_PRIVILEGED));
}
