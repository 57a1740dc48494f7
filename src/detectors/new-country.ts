/** Flags a request from a country this person has not been seen in before. */

import type { DetectorFinding } from "../model/finding.js";
import { type Detector, numParam } from "./detector.js";
import { freshSince, freshValues, isKnown, seeUpdate } from "./learned-values.js";
import { mayTeach } from "./login-attempt.js";

const FIELD = "countries";

function countryOf(country: string | undefined): string | undefined {
  return country && country.length > 0 ? country.toUpperCase() : undefined;
}

export const newCountryDetector: Detector = {
  id: "new_country",
  description: "a person appears from a country not seen for them before",
  defaults: { points: 25, cap: 30, max_age_days: 180 },
  applies: (ctx) => ctx.kind === "human",
  needs(ctx, needs) {
    needs.profile(ctx.subjectKey);
  },
  detect(ctx, state): DetectorFinding | undefined {
    const country = countryOf(ctx.enrichment.geo?.country);
    if (!country) return undefined;
    const profile = state.profile(ctx.subjectKey);
    const since = freshSince(ctx);
    const known = freshValues(profile, FIELD, since);
    // Cold start: with no country on record there is nothing to call "new"; new_device speaks for a new identity.
    if (known.size === 0 || isKnown(profile, FIELD, country, since)) return undefined;
    return {
      severity: "medium",
      points: numParam(ctx, "points", 25),
      code: "new_country",
      message: `request from "${country}", a country not seen for this identity`,
      evidence: { country, known_countries: [...known.keys()].sort(), geo_source: ctx.enrichment.geo?.source ?? null },
    };
  },
  update(ctx, _state, sink) {
    const country = countryOf(ctx.enrichment.geo?.country);
    if (country && mayTeach(ctx)) sink.learn(seeUpdate(ctx, FIELD, country, 30));
  },
};
