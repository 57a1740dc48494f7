/**
 * unusual_action: a machine identity performing an action outside its learned set; for an AI agent, a tool or
 * action outside its learned scope.
 */

import type { DetectorFinding } from "../model/finding.js";
import { type Detector, type DetectorContext, numParam } from "./detector.js";
import { freshSince, freshValues, historyOf, isKnown, seeUpdate } from "./learned-values.js";

const ID = "unusual_action";
const FIELD = "actions";
const HOUR_MS = 3_600_000;
const AGENT_TYPES: ReadonlySet<string> = new Set(["agent", "ai_agent"]);

export const unusualActionDetector: Detector = {
  id: ID,
  description: "a machine identity performing an action, or an agent calling a tool, outside its learned set",
  defaults: {
    /** Points for a service, job or key doing something new (medium). */
    points: 35,
    /** Points for an agent acting outside its learned scope (high). */
    agent_points: 50,
    /** Warm-up: observations and hours of history before the detector speaks. */
    min_observations: 20,
    min_history_hours: 24,
    /** Most actions remembered per identity. */
    cap: 200,
    max_age_days: 180,
  },

  applies(ctx) {
    return ctx.kind === "machine" && !ctx.isLogin && actionKey(ctx) !== undefined;
  },

  needs(ctx, needs) {
    needs.profile(ctx.subjectKey);
  },

  detect(ctx, state): DetectorFinding | undefined {
    const action = actionKey(ctx);
    if (action === undefined) return undefined;
    const profile = state.profile(ctx.subjectKey);
    const fresh = freshSince(ctx);
    // The usual case, a known action, is answered without copying the learned set.
    if (isKnown(profile, FIELD, action, fresh)) return undefined;
    const actions = freshValues(profile, FIELD, fresh);
    const { observations, since } = historyOf(actions);
    if (observations < numParam(ctx, "min_observations", 20)) return undefined;
    if (since === undefined || ctx.now - since < numParam(ctx, "min_history_hours", 24) * HOUR_MS) return undefined;
    const agent = AGENT_TYPES.has(ctx.request.subject.type);
    const evidence = {
      action,
      known_actions: actions.size,
      observations,
      known_examples: [...actions.keys()].slice(0, 5),
    };
    if (agent) {
      return {
        severity: "high",
        points: numParam(ctx, "agent_points", 50),
        code: "agent_out_of_scope",
        message: `agent used "${action}", outside its learned scope`,
        evidence,
      };
    }
    return {
      severity: "medium",
      points: numParam(ctx, "points", 35),
      code: ID,
      message: `action "${action}" never performed by this identity`,
      evidence,
    };
  },

  update(ctx, _state, sink) {
    const action = actionKey(ctx);
    if (action !== undefined) sink.learn(seeUpdate(ctx, FIELD, action, 200));
  },
};

/** The action name, with the tool for tool calls (`action.properties.tool`), e.g. `tools.call:search_web`. */
function actionKey(ctx: DetectorContext): string | undefined {
  const a = ctx.request.action;
  if (typeof a?.name !== "string" || a.name === "") return undefined;
  const tool = a.properties?.tool;
  return typeof tool === "string" && tool !== "" ? `${a.name}:${tool}` : a.name;
}
