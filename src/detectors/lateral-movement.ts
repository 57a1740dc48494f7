/** lateral_movement: an identity touching many resources new to it within a short window. */

import { type Detector, type DetectorContext, numParam } from "./detector.js";
import { freshSet, freshSince, isKnown, seeUpdate } from "./learned-values.js";

const ID = "lateral_movement";
const FIELD = "resources";

export const lateralMovementDetector: Detector = {
  id: ID,
  description: "many resources new to this identity touched within a short window",
  defaults: {
    /** Points when the new-resource count passes `max_new_resources` (high). */
    points: 45,
    /** New resources tolerated per window; the detector fires on the next new one. */
    max_new_resources: 10,
    window_seconds: 600,
    /** Known resources an identity needs before the detector speaks: before that, everything is new. */
    min_known_resources: 5,
    /** Most resources remembered per identity. */
    cap: 200,
    max_age_days: 180,
  },

  applies(ctx) {
    return !ctx.isLogin && resourceKey(ctx) !== undefined;
  },

  needs(ctx, needs) {
    needs.profile(ctx.subjectKey);
    needs.counter({ key: counterKey(ctx), windowMs: windowMs(ctx), distinct: true });
  },

  detect(ctx, state) {
    const resource = resourceKey(ctx);
    if (resource === undefined) return undefined;
    const profile = state.profile(ctx.subjectKey);
    const since = freshSince(ctx);
    if (isKnown(profile, FIELD, resource, since)) return undefined;
    const known = freshSet(profile, FIELD, since).size;
    if (known < numParam(ctx, "min_known_resources", 5)) return undefined;
    // `distinct` counts the new resources touched before this request in the window.
    const before = state.counter(counterKey(ctx)).distinct;
    const max = numParam(ctx, "max_new_resources", 10);
    if (before < max) return undefined;
    const windowSeconds = windowMs(ctx) / 1000;
    return {
      severity: "high",
      points: numParam(ctx, "points", 45),
      code: ID,
      message: `${before + 1} resources new to this identity touched within ${windowSeconds} seconds`,
      evidence: {
        resource,
        new_resources_in_window: before + 1,
        max_new_resources: max,
        window_seconds: windowSeconds,
        known_resources: known,
      },
    };
  },

  update(ctx, state, sink) {
    const resource = resourceKey(ctx);
    if (resource === undefined) return;
    if (!isKnown(state.profile(ctx.subjectKey), FIELD, resource, freshSince(ctx))) {
      sink.observe({
        op: "distinct",
        counter: counterKey(ctx),
        member: resource,
        at: ctx.now,
        windowMs: windowMs(ctx),
      });
    }
    sink.learn(seeUpdate(ctx, FIELD, resource, 200));
  },
};

function resourceKey(ctx: DetectorContext): string | undefined {
  const r = ctx.request.resource as Partial<typeof ctx.request.resource> | undefined;
  return typeof r?.type === "string" && typeof r.id === "string" && r.type !== "" && r.id !== ""
    ? `${r.type}:${r.id}`
    : undefined;
}

function counterKey(ctx: DetectorContext): string {
  return `${ctx.subjectKey}:new_resources`;
}

function windowMs(ctx: DetectorContext): number {
  return Math.max(1, numParam(ctx, "window_seconds", 600)) * 1000;
}
