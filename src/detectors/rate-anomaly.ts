/**
 * rate_anomaly: an identity's requests per minute far above its own baseline, an exponentially weighted
 * moving average of the rate its past trusted requests saw.
 */

import type { DetectorFinding } from "../model/finding.js";
import type { JsonValue } from "../model/request.js";
import { type Detector, type DetectorContext, numParam } from "./detector.js";
import { mayTeach } from "./login-attempt.js";

const ID = "rate_anomaly";
const FIELD = "rate_ewma";
const MINUTE_MS = 60_000;

/**
 * The learned baseline: mean requests per minute, samples folded in, when learning began, and the
 * minute of the last sample (one sample per minute at most).
 */
interface Baseline {
  readonly mean: number;
  readonly n: number;
  readonly since: number;
  readonly minute?: number;
}

export const rateAnomalyDetector: Detector = {
  id: ID,
  description: "requests per minute far above this identity's learned baseline",
  defaults: {
    /** Points when the rate passes `multiplier` × baseline (medium). */
    points: 35,
    /** Points when the rate passes `high_multiplier` × baseline (high). */
    high_points: 60,
    multiplier: 5,
    high_multiplier: 20,
    /** Requests per minute below which the detector never fires, whatever the baseline. */
    min_rate: 30,
    /** Weight of each new sample in the moving average. */
    alpha: 0.05,
    /** Warm-up: samples and minutes of history before the detector speaks. */
    min_samples: 50,
    min_history_minutes: 60,
  },

  applies() {
    return true;
  },

  needs(ctx, needs) {
    needs.profile(ctx.subjectKey);
    needs.counter({ key: counterKey(ctx), windowMs: MINUTE_MS });
  },

  detect(ctx, state) {
    const baseline = baselineOf(state.profile(ctx.subjectKey).values[FIELD]);
    if (!baseline || !warmedUp(ctx, baseline)) return undefined;
    const rate = state.counter(counterKey(ctx)).count + 1;
    if (rate < numParam(ctx, "min_rate", 30)) return undefined;
    const ratio = baseline.mean > 0 ? rate / baseline.mean : Number.POSITIVE_INFINITY;
    const high = numParam(ctx, "high_multiplier", 20);
    const medium = numParam(ctx, "multiplier", 5);
    if (ratio <= medium) return undefined;
    const isHigh = ratio > high;
    return findingOf(ctx, rate, baseline, ratio, isHigh ? high : medium, isHigh);
  },

  update(ctx, state, sink) {
    sink.observe({ op: "incr", counter: counterKey(ctx), at: ctx.now, by: 1, windowMs: MINUTE_MS });
    if (!mayTeach(ctx)) return;
    const rate = state.counter(counterKey(ctx)).count + 1;
    const prev = baselineOf(state.profile(ctx.subjectKey).values[FIELD]);
    const n = prev?.n ?? 0;
    // One sample per minute, taken by the minute's first request: it sees the sliding window of the
    // minute before, so a burst inside one minute cannot teach the baseline that the burst is normal.
    const minute = Math.floor(ctx.now / MINUTE_MS);
    if (prev && prev.minute === minute) return;
    const weight = Math.max(numParam(ctx, "alpha", 0.05), 1 / (n + 1));
    const mean = prev ? prev.mean + weight * (rate - prev.mean) : rate;
    const next: Baseline = { mean: round(mean), n: n + 1, since: prev?.since ?? ctx.now, minute };
    // Learned, not observed: a burst that was not trusted must not raise the baseline it is judged by.
    sink.learn({ op: "set", profile: ctx.subjectKey, field: FIELD, value: { ...next } });
  },
};

function counterKey(ctx: DetectorContext): string {
  return `${ctx.subjectKey}:rpm`;
}

function warmedUp(ctx: DetectorContext, b: Baseline): boolean {
  return (
    b.n >= numParam(ctx, "min_samples", 50) && ctx.now - b.since >= numParam(ctx, "min_history_minutes", 60) * MINUTE_MS
  );
}

function baselineOf(v: JsonValue | undefined): Baseline | undefined {
  if (!v || typeof v !== "object" || Array.isArray(v)) return undefined;
  const { mean, n, since, minute } = v;
  if (typeof mean !== "number" || typeof n !== "number" || typeof since !== "number") return undefined;
  if (!Number.isFinite(mean) || mean < 0) return undefined;
  return typeof minute === "number" ? { mean, n, since, minute } : { mean, n, since };
}

function findingOf(
  ctx: DetectorContext,
  rate: number,
  b: Baseline,
  ratio: number,
  multiplier: number,
  isHigh: boolean,
): DetectorFinding {
  const shownRatio = Number.isFinite(ratio) ? round(ratio) : null;
  return {
    severity: isHigh ? "high" : "medium",
    points: isHigh ? numParam(ctx, "high_points", 60) : numParam(ctx, "points", 35),
    code: ID,
    message: `${rate} requests in the last minute, ${shownRatio ?? "far"} times the baseline of ${round(b.mean)}`,
    evidence: {
      requests_last_minute: rate,
      baseline_per_minute: round(b.mean),
      ratio: shownRatio,
      multiplier,
      baseline_samples: b.n,
    },
  };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
