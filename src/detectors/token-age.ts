/** token_age: a token presented after its `exp`, older than the allowed age, or issued in the future. */

import type { JsonObject } from "../model/request.js";
import { type Detector, numParam } from "./detector.js";

const ID = "token_age";

export const tokenAgeDetector: Detector = {
  id: ID,
  description: "a token that has expired, is older than the allowed age, or claims to be issued in the future",
  defaults: {
    /** Points for a token older than `max_age_seconds` (medium). */
    points: 30,
    /** Points for a token presented after its `exp` (high). */
    expired_points: 60,
    /** Points for a token whose `iat` lies in the future beyond the leeway (low). */
    future_points: 15,
    /** Oldest acceptable token, from `iat`. */
    max_age_seconds: 86_400,
    /** Clock skew tolerated between the issuer and Signalbox. */
    leeway_seconds: 60,
  },

  applies(ctx) {
    const t = ctx.request.context?.token;
    return isTime(t?.iat) || isTime(t?.exp);
  },

  needs() {},

  detect(ctx) {
    const t = ctx.request.context?.token;
    const nowS = Math.floor(ctx.now / 1000);
    const leeway = numParam(ctx, "leeway_seconds", 60);
    const iat = isTime(t?.iat) ? t.iat : undefined;
    const exp = isTime(t?.exp) ? t.exp : undefined;
    if (exp !== undefined && nowS > exp + leeway) {
      return {
        severity: "high",
        points: numParam(ctx, "expired_points", 60),
        code: "token_expired",
        message: `token expired ${nowS - exp} seconds ago`,
        evidence: evidenceOf(nowS, iat, exp, { expired_seconds_ago: nowS - exp, leeway_seconds: leeway }),
      };
    }
    if (iat === undefined) return undefined;
    if (iat > nowS + leeway) {
      return {
        severity: "low",
        points: numParam(ctx, "future_points", 15),
        code: "token_issued_in_future",
        message: `token claims to be issued ${iat - nowS} seconds in the future`,
        evidence: evidenceOf(nowS, iat, exp, { leeway_seconds: leeway }),
      };
    }
    const maxAge = numParam(ctx, "max_age_seconds", 86_400);
    const age = nowS - iat;
    if (age <= maxAge + leeway) return undefined;
    return {
      severity: "medium",
      points: numParam(ctx, "points", 30),
      code: ID,
      message: `token is ${age} seconds old, more than the allowed ${maxAge}`,
      evidence: evidenceOf(nowS, iat, exp, { age_seconds: age, max_age_seconds: maxAge }),
    };
  },
};

function isTime(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v) && v >= 0;
}

function evidenceOf(nowS: number, iat: number | undefined, exp: number | undefined, extra: JsonObject): JsonObject {
  return { now: nowS, iat: iat ?? null, exp: exp ?? null, ...extra };
}
