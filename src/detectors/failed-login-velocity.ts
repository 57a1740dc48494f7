/** Flags many failed logins for one person in a short window (password guessing against one account). */

import type { DetectorFinding } from "../model/finding.js";
import { type Detector, type DetectorContext, numParam } from "./detector.js";
import { isLoginFailure, loginResult } from "./login-attempt.js";

function counterKey(ctx: DetectorContext): string {
  return `${ctx.subjectKey}:login_failures`;
}

function windowMs(ctx: DetectorContext): number {
  return Math.max(1, numParam(ctx, "window_seconds", 900)) * 1000;
}

export const failedLoginVelocityDetector: Detector = {
  id: "failed_login_velocity",
  description: "many failed logins for one identity within a short window",
  defaults: { points: 30, high_points: 50, threshold: 5, high_threshold: 10, window_seconds: 900 },
  applies: (ctx) => ctx.kind === "human" && ctx.isLogin,
  needs(ctx, needs) {
    needs.counter({ key: counterKey(ctx), windowMs: windowMs(ctx) });
  },
  detect(ctx, state): DetectorFinding | undefined {
    // The snapshot predates this request, so a failure now counts itself.
    const failures = state.counter(counterKey(ctx)).count + (isLoginFailure(ctx) ? 1 : 0);
    const threshold = numParam(ctx, "threshold", 5);
    if (failures < threshold) return undefined;
    const high = failures >= numParam(ctx, "high_threshold", 10);
    const result = loginResult(ctx) ?? null;
    return {
      severity: high ? "high" : "medium",
      points: high ? numParam(ctx, "high_points", 50) : numParam(ctx, "points", 30),
      code: "failed_login_velocity",
      message:
        result === "success"
          ? `successful login after ${failures} failed logins in the window`
          : `${failures} failed logins for this identity in the window`,
      evidence: {
        failures,
        threshold,
        window_seconds: windowMs(ctx) / 1000,
        result,
      },
    };
  },
  update(ctx, _state, sink) {
    if (isLoginFailure(ctx))
      sink.observe({ op: "incr", counter: counterKey(ctx), at: ctx.now, by: 1, windowMs: windowMs(ctx) });
  },
};
