/** Flags a session whose last active authentication (`auth_time`) is older than the allowed age. */

import type { DetectorFinding } from "../model/finding.js";
import { type Detector, numParam } from "./detector.js";

export const staleAuthenticationDetector: Detector = {
  id: "stale_authentication",
  description: "the session's last active authentication is older than the allowed age",
  defaults: { points: 20, max_auth_age_seconds: 43_200 },
  applies: (ctx) => ctx.kind === "human",
  needs() {},
  detect(ctx): DetectorFinding | undefined {
    const authTime = ctx.request.context?.session?.auth_time;
    if (typeof authTime !== "number" || !Number.isFinite(authTime)) return undefined;
    const age = Math.floor(ctx.now / 1000 - authTime);
    const maxAge = numParam(ctx, "max_auth_age_seconds", 43_200);
    // A future auth_time (clock skew at the IdP) is not stale; it is not this detector's concern.
    if (age <= maxAge) return undefined;
    return {
      severity: age > 2 * maxAge ? "medium" : "low",
      points: numParam(ctx, "points", 20),
      code: "stale_authentication",
      message: `last authentication was ${age} seconds ago, more than the allowed ${maxAge}`,
      evidence: { age_seconds: age, max_auth_age_seconds: maxAge, auth_time: authTime },
    };
  },
};
