/** Hand-built compiled policies and small real detectors for engine tests, independent of the YAML compiler. */

import type { Detector } from "../../src/detectors/detector.js";
import type { ControlPath } from "../../src/model/control-path.js";
import type {
  CompiledPolicy,
  CompiledRule,
  CompiledSegment,
  Condition,
  ConditionVars,
} from "../../src/policy/compiled.js";
import type { StateSnapshot, StateStore } from "../../src/state/port.js";

export function cond(source: string, fn: (v: ConditionVars) => boolean): Condition {
  return {
    source,
    evaluate(vars) {
      try {
        return { value: fn(vars) };
      } catch (err) {
        return { value: false, error: err instanceof Error ? err.message : String(err) };
      }
    },
  };
}

export function rule(id: string, path: ControlPath, fn: (v: ConditionVars) => boolean, code = id): CompiledRule {
  return { id, when: cond(id, fn), path, reason: { code, message: `${id} matched` } };
}

export function segment(partial: Partial<CompiledSegment> & { name: string }): CompiledSegment {
  return {
    description: "",
    when: cond("true", () => true),
    detectors: ["known_device", "failed_logins", "explodes"],
    weights: {},
    ladder: [
      { at: 0, path: "allow" },
      { at: 30, path: "step_up" },
      { at: 80, path: "deny" },
    ],
    rules: [],
    onError: "step_up",
    paths: {},
    ...partial,
  };
}

export function policy(segments: CompiledSegment[], revision = "1"): CompiledPolicy {
  return {
    id: "test",
    revision,
    description: "",
    file: "test.yaml",
    bands: { medium: 25, high: 50, critical: 75 },
    segments,
    entities: {},
    detectorParams: {},
  };
}

type Props = Record<string, unknown>;
const ctxOf = (r: { context?: unknown }) => (r.context ?? {}) as Props;

/** New device: 40 points for a device id this identity has not been trusted on; learns on trust. */
export const knownDevice: Detector = {
  id: "known_device",
  description: "a device id not seen for this identity",
  defaults: { points: 40 },
  applies: (ctx) => typeof (ctxOf(ctx.request).device as Props | undefined)?.id === "string",
  needs: (ctx, n) => n.profile(ctx.subjectKey),
  detect(ctx, state) {
    const id = (ctxOf(ctx.request).device as Props).id as string;
    if (state.profile(ctx.subjectKey).sets.devices?.[id]) return undefined;
    return {
      severity: "medium",
      points: Number(ctx.params.points),
      code: "new_device",
      message: "a device not seen before",
      evidence: { device: id },
    };
  },
  update(ctx, _state, sink) {
    const id = (ctxOf(ctx.request).device as Props).id as string;
    sink.learn({ op: "see", profile: ctx.subjectKey, field: "devices", value: id, at: ctx.now, cap: 10 });
  },
};

/** Failed logins: counts failures in 10 minutes; 20 points per failure so far. */
export const failedLogins: Detector = {
  id: "failed_logins",
  description: "failed logins per identity",
  defaults: { points: 20 },
  applies: (ctx) => ctx.isLogin,
  needs: (ctx, n) => n.counter({ key: `${ctx.subjectKey}:fail`, windowMs: 600_000 }),
  detect(ctx, state) {
    const n = state.counter(`${ctx.subjectKey}:fail`).count;
    if (n === 0) return undefined;
    return {
      severity: "high",
      points: n * 20,
      code: "failed_logins",
      message: `${n} failed logins`,
      evidence: { failures: n },
    };
  },
  update(ctx, _s, sink) {
    const authn = ctxOf(ctx.request).authn as Props | undefined;
    if (authn?.result === "failure")
      sink.observe({ op: "incr", counter: `${ctx.subjectKey}:fail`, at: ctx.now, by: 1, windowMs: 600_000 });
  },
};

/** A detector that throws when the request asks it to, to exercise `on_error`. */
export const explodes: Detector = {
  id: "explodes",
  description: "throws on request",
  defaults: { points: 0 },
  applies: (ctx) => ctxOf(ctx.request).explode === true,
  needs: () => {},
  detect() {
    throw new Error("boom");
  },
};

export const TEST_DETECTORS = [knownDevice, failedLogins, explodes];

/** A state store whose reads never answer or always fail: the engine's timeout and on_error path. */
export class UnreachableStateStore implements StateStore {
  readonly kind = "unreachable";
  constructor(private readonly mode: "hang" | "fail") {}
  read(): Promise<StateSnapshot> {
    return this.mode === "hang" ? new Promise(() => {}) : Promise.reject(new Error("connection refused"));
  }
  async write(): Promise<void> {
    throw new Error("connection refused");
  }
  async getPending() {
    return undefined;
  }
  async close() {}
}
