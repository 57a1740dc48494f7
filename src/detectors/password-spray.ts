/**
 * Flags password spraying and credential stuffing from one source address: logins for many
 * identities with a high failure ratio, including the successful login such an address finally gets.
 */

import type { DetectorFinding } from "../model/finding.js";
import { type Detector, type DetectorContext, numParam } from "./detector.js";
import { isLoginFailure, loginResult } from "./login-attempt.js";
import { sourceAddress } from "./source-network.js";

interface Keys {
  attempts: string;
  failures: string;
  identities: string;
}

function keysFor(ip: string): Keys {
  return {
    attempts: `ip:${ip}:login_attempts`,
    failures: `ip:${ip}:login_failures`,
    identities: `ip:${ip}:login_identities`,
  };
}

function windowMs(ctx: DetectorContext): number {
  return Math.max(1, numParam(ctx, "window_seconds", 3600)) * 1000;
}

export const passwordSprayDetector: Detector = {
  id: "password_spray",
  description: "one source address tries many identities with mostly failing logins",
  defaults: {
    points: 40,
    success_points: 70,
    min_identities: 5,
    min_failures: 5,
    min_failure_ratio: 0.7,
    window_seconds: 3600,
  },
  applies: (ctx) => ctx.kind === "human" && ctx.isLogin && sourceAddress(ctx) !== undefined,
  needs(ctx, needs) {
    const ip = sourceAddress(ctx);
    if (!ip) return;
    const k = keysFor(ip);
    const w = windowMs(ctx);
    needs.counter({ key: k.attempts, windowMs: w });
    needs.counter({ key: k.failures, windowMs: w });
    needs.counter({ key: k.identities, windowMs: w, distinct: true });
  },
  detect(ctx, state): DetectorFinding | undefined {
    const ip = sourceAddress(ctx);
    if (!ip) return undefined;
    const k = keysFor(ip);
    const failed = isLoginFailure(ctx);
    // The snapshot predates this request: add it to attempts and failures. Whether this identity is
    // already among the distinct ones is unknown, so identities count only those seen before.
    const attempts = state.counter(k.attempts).count + 1;
    const failures = state.counter(k.failures).count + (failed ? 1 : 0);
    const identities = state.counter(k.identities).distinct;
    const ratio = failures / attempts;
    const minRatio = numParam(ctx, "min_failure_ratio", 0.7);
    if (
      identities < numParam(ctx, "min_identities", 5) ||
      failures < numParam(ctx, "min_failures", 5) ||
      ratio < minRatio
    ) {
      return undefined;
    }
    const result = loginResult(ctx) ?? null;
    // A success from a spraying address is the attack working: the account is likely compromised.
    const succeeded = result === "success";
    return {
      severity: succeeded ? "high" : "medium",
      points: succeeded ? numParam(ctx, "success_points", 70) : numParam(ctx, "points", 40),
      code: "password_spray",
      message: succeeded
        ? `successful login from "${ip}", which is spraying passwords across ${identities} identities`
        : `login from "${ip}", which is spraying passwords across ${identities} identities`,
      evidence: {
        ip,
        identities,
        attempts,
        failures,
        failure_ratio: Math.round(ratio * 1000) / 1000,
        min_failure_ratio: minRatio,
        window_seconds: windowMs(ctx) / 1000,
        result,
      },
    };
  },
  update(ctx, _state, sink) {
    const ip = sourceAddress(ctx);
    if (!ip) return;
    const k = keysFor(ip);
    const w = windowMs(ctx);
    sink.observe({ op: "incr", counter: k.attempts, at: ctx.now, by: 1, windowMs: w });
    sink.observe({ op: "distinct", counter: k.identities, member: ctx.subjectKey, at: ctx.now, windowMs: w });
    if (isLoginFailure(ctx)) sink.observe({ op: "incr", counter: k.failures, at: ctx.now, by: 1, windowMs: w });
  },
};
