/** off_hours_secret_access: a machine identity reading secrets at an hour of the week it is never active. */

import type { DetectorFinding } from "../model/finding.js";
import { matchingPattern } from "./action-pattern.js";
import { type Detector, type DetectorContext, listParam, numParam } from "./detector.js";
import { hourOfWeek } from "./hour-of-week.js";
import { freshSet, freshSince, seeUpdate } from "./learned-values.js";

const ID = "off_hours_secret_access";
const FIELD = "hours";
const HOURS_PER_WEEK = 168;
const DAY_MS = 86_400_000;
const DEFAULT_SECRET_ACTIONS = ["secrets.*", "secret.*"];
const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

export const offHoursSecretAccessDetector: Detector = {
  id: ID,
  description: "a machine identity accessing secrets at an hour of the week it is not normally active",
  defaults: {
    /** Points for a secret access outside the learned hours (high). */
    points: 45,
    /** Action names (exact, or `family.*`) that access secrets. */
    secret_actions: DEFAULT_SECRET_ACTIONS,
    /** A learned hour this close (either side, wrapping round the week) makes the hour usual. */
    tolerance_hours: 1,
    /** Warm-up: observations and days of history before the detector speaks. */
    min_observations: 30,
    min_history_days: 7,
    /** IANA time zone for the hour of week; UTC by default. */
    timezone: "UTC",
    cap: HOURS_PER_WEEK,
    max_age_days: 180,
  },

  // Every machine request teaches the identity's active hours; only secret access is judged.
  applies(ctx) {
    return ctx.kind === "machine" && !ctx.isLogin;
  },

  needs(ctx, needs) {
    needs.profile(ctx.subjectKey);
  },

  detect(ctx, state): DetectorFinding | undefined {
    const action = ctx.request.action.name;
    if (matchingPattern(action, listParam(ctx, "secret_actions", DEFAULT_SECRET_ACTIONS)) === undefined)
      return undefined;
    const hours = freshSet(state.profile(ctx.subjectKey), FIELD, freshSince(ctx));
    const observations = hours.total;
    const since = hours.since;
    const minDays = numParam(ctx, "min_history_days", 7);
    if (observations < numParam(ctx, "min_observations", 30)) return undefined;
    if (since === undefined || ctx.now - since < minDays * DAY_MS) return undefined;
    const timezone = timezoneOf(ctx);
    const how = hourOfWeek(ctx.now, timezone);
    const tolerance = Math.max(0, Math.floor(numParam(ctx, "tolerance_hours", 1)));
    for (let d = -tolerance; d <= tolerance; d++) {
      if (hours.has(String((how + d + HOURS_PER_WEEK) % HOURS_PER_WEEK))) return undefined;
    }
    const label = `${WEEKDAYS[Math.floor(how / 24)]} ${String(how % 24).padStart(2, "0")}:00`;
    return {
      severity: "high",
      points: numParam(ctx, "points", 45),
      code: ID,
      message: `secret access "${action}" at ${label} ${timezone}, outside this identity's usual hours`,
      evidence: {
        action,
        hour_of_week: how,
        hour_label: label,
        timezone,
        tolerance_hours: tolerance,
        known_hours: hours.size,
        observations,
      },
    };
  },

  update(ctx, _state, sink) {
    sink.learn(seeUpdate(ctx, FIELD, String(hourOfWeek(ctx.now, timezoneOf(ctx))), HOURS_PER_WEEK));
  },
};

function timezoneOf(ctx: DetectorContext): string {
  const tz = ctx.params.timezone;
  return typeof tz === "string" && tz !== "" ? tz : "UTC";
}
