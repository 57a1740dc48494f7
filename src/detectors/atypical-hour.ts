/** Flags activity at an hour of the week this person is almost never active, once enough history exists. */

import type { DetectorFinding } from "../model/finding.js";
import { type Detector, type DetectorContext, numParam } from "./detector.js";
import { hourOfWeek } from "./hour-of-week.js";
import { freshSet, freshSince, seeUpdate } from "./learned-values.js";
import { mayTeach } from "./login-attempt.js";

const FIELD = "hours";
const HOURS_PER_WEEK = 168;
const DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] as const;

function timezoneOf(ctx: DetectorContext): string | undefined {
  const tz = ctx.params.timezone;
  return typeof tz === "string" && tz.length > 0 ? tz : undefined;
}

export const atypicalHourDetector: Detector = {
  id: "atypical_hour",
  description: "a person is active at an hour of the week that is rare in their history",
  defaults: {
    points: 10,
    min_observations: 20,
    min_share: 0.02,
    neighbour_hours: 1,
    cap: 168,
    max_age_days: 180,
    timezone: "UTC",
  },
  applies: (ctx) => ctx.kind === "human",
  needs(ctx, needs) {
    needs.profile(ctx.subjectKey);
  },
  detect(ctx, state): DetectorFinding | undefined {
    const hours = freshSet(state.profile(ctx.subjectKey), FIELD, freshSince(ctx));
    const observations = hours.total;
    const minObservations = numParam(ctx, "min_observations", 20);
    if (observations < minObservations) return undefined;
    const how = hourOfWeek(ctx.now, timezoneOf(ctx));
    // Neighbouring hours count too (wrapping round the week): 09:00 habits make 08:00 unsurprising.
    const spread = Math.max(0, Math.floor(numParam(ctx, "neighbour_hours", 1)));
    let nearby = 0;
    for (let d = -spread; d <= spread; d++) {
      nearby += hours.get(String((how + d + HOURS_PER_WEEK) % HOURS_PER_WEEK))?.n ?? 0;
    }
    const share = nearby / observations;
    const minShare = numParam(ctx, "min_share", 0.02);
    if (share >= minShare) return undefined;
    const day = DAYS[Math.floor(how / 24)] ?? "monday";
    const hour = how % 24;
    return {
      severity: "low",
      points: numParam(ctx, "points", 10),
      code: "atypical_hour",
      message: `activity on ${day} at ${String(hour).padStart(2, "0")}:00, an unusual hour for this identity`,
      evidence: {
        hour_of_week: how,
        day,
        hour,
        timezone: timezoneOf(ctx) ?? "UTC",
        share: Math.round(share * 10_000) / 10_000,
        min_share: minShare,
        observations,
        neighbour_hours: spread,
      },
    };
  },
  update(ctx, _state, sink) {
    if (!mayTeach(ctx)) return;
    sink.learn(seeUpdate(ctx, FIELD, String(hourOfWeek(ctx.now, timezoneOf(ctx))), HOURS_PER_WEEK));
  },
};
