/** Flags repeated denied or unanswered MFA prompts for one person (push bombing), and the approval that may follow. */

import type { DetectorFinding } from "../model/finding.js";
import { type Detector, type DetectorContext, numParam } from "./detector.js";

function counterKey(ctx: DetectorContext): string {
  return `${ctx.subjectKey}:mfa_rejections`;
}

function windowMs(ctx: DetectorContext): number {
  return Math.max(1, numParam(ctx, "window_seconds", 600)) * 1000;
}

function mfaResult(ctx: DetectorContext): "approved" | "denied" | "timeout" | undefined {
  const r = ctx.request.context?.authn?.mfa_result;
  return r === "approved" || r === "denied" || r === "timeout" ? r : undefined;
}

export const mfaFatigueDetector: Detector = {
  id: "mfa_fatigue",
  description: "repeated denied or timed-out MFA prompts for one identity within a short window",
  defaults: { points: 35, high_points: 60, threshold: 3, high_threshold: 6, window_seconds: 600 },
  applies: (ctx) => ctx.kind === "human" && mfaResult(ctx) !== undefined,
  needs(ctx, needs) {
    needs.counter({ key: counterKey(ctx), windowMs: windowMs(ctx) });
  },
  detect(ctx, state): DetectorFinding | undefined {
    const result = mfaResult(ctx);
    if (!result) return undefined;
    const rejected = result !== "approved";
    const rejections = state.counter(counterKey(ctx)).count + (rejected ? 1 : 0);
    const threshold = numParam(ctx, "threshold", 3);
    if (rejections < threshold) return undefined;
    // An approval after a burst of rejections is how push bombing succeeds: the worn-down user taps "approve".
    const high = result === "approved" || rejections >= numParam(ctx, "high_threshold", 6);
    return {
      severity: high ? "high" : "medium",
      points: high ? numParam(ctx, "high_points", 60) : numParam(ctx, "points", 35),
      code: "mfa_fatigue",
      message:
        result === "approved"
          ? `mfa approved after ${rejections} denied or unanswered prompts`
          : `${rejections} denied or unanswered mfa prompts for this identity in the window`,
      evidence: { rejections, threshold, window_seconds: windowMs(ctx) / 1000, mfa_result: result },
    };
  },
  update(ctx, _state, sink) {
    const result = mfaResult(ctx);
    if (result === "denied" || result === "timeout") {
      sink.observe({ op: "incr", counter: counterKey(ctx), at: ctx.now, by: 1, windowMs: windowMs(ctx) });
    }
  },
};
