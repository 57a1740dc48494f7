/** Prometheus metrics of one app: a registry of its own, fed by engine events and HTTP hooks. */

import type { FastifyInstance } from "fastify";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { EngineObserver } from "../engine/engine.js";
import type { Runtime } from "./runtime.js";

export interface ServiceMetrics {
  readonly registry: Registry;
  readonly observer: EngineObserver;
  readonly policyReloads: Counter<"result">;
}

/** An audit trail that buffers writes may say how many records wait; the port does not require it. */
function auditQueueDepth(runtime: Runtime): number | undefined {
  const audit = runtime.engine.audit as unknown as { queueDepth?: unknown };
  const depth = typeof audit.queueDepth === "function" ? (audit.queueDepth as () => unknown)() : audit.queueDepth;
  return typeof depth === "number" ? depth : undefined;
}

/**
 * Label children by key, made once: prom-client hashes a labels object on every call, which
 * costs more than the increment itself on a path taken by every decision and request.
 */
export class LabelledCache<C> {
  private readonly children = new Map<string, C>();
  constructor(private readonly make: (...values: string[]) => C) {}

  get(...values: string[]): C {
    const key = values.join("\u0000");
    let child = this.children.get(key);
    if (child === undefined) {
      child = this.make(...values);
      this.children.set(key, child);
    }
    return child;
  }
}

export function createServiceMetrics(runtime: Runtime, options: { processMetrics?: boolean } = {}): ServiceMetrics {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: "signalbox_" });

  const decisions = new Counter({
    name: "signalbox_decisions_total",
    help: "Decisions by control path and segment",
    labelNames: ["control_path", "segment"] as const,
    registers: [registry],
  });
  const shadowDisagreements = new Counter({
    name: "signalbox_shadow_disagreements_total",
    help: "Shadow-policy decisions whose control path differs from the active policy's",
    labelNames: ["active", "shadow"] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: "signalbox_decision_duration_seconds",
    help: "Engine time per decision (state, detectors, policy, audit commit)",
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const detectorErrors = new Counter({
    name: "signalbox_detector_errors_total",
    help: "Detector failures by detector and segment (the segment's on_error path applied)",
    labelNames: ["detector", "segment"] as const,
    registers: [registry],
  });
  const stateErrors = new Counter({
    name: "signalbox_state_errors_total",
    help: "State store errors and timeouts",
    labelNames: ["kind"] as const,
    registers: [registry],
  });
  const outcomes = new Counter({
    name: "signalbox_outcomes_total",
    help: "Outcomes reported for decisions, by outcome",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  const policyReloads = new Counter({
    name: "signalbox_policy_reloads_total",
    help: "Policy reloads by result",
    labelNames: ["result"] as const,
    registers: [registry],
  });
  new Gauge({
    name: "signalbox_audit_queue_depth",
    help: "Audit records waiting to be committed (0 when the audit store writes synchronously)",
    registers: [registry],
    collect() {
      this.set(auditQueueDepth(runtime) ?? 0);
    },
  });
  new Gauge({
    name: "signalbox_policy_info",
    help: "The active policy (value 1), labelled by id and revision",
    labelNames: ["id", "revision"] as const,
    registers: [registry],
    collect() {
      this.reset();
      this.set({ id: runtime.engine.policy.id, revision: runtime.engine.policy.revision }, 1);
    },
  });

  const decisionCounts = new LabelledCache((controlPath, segment) =>
    decisions.labels({ control_path: controlPath, segment }),
  );
  const observer: EngineObserver = {
    onDecision(d) {
      decisionCounts.get(d.controlPath, d.segment).inc();
      latency.observe(d.timings.totalUs / 1e6);
    },
    onShadowDecision(active, shadow) {
      if (active.controlPath !== shadow.controlPath) {
        shadowDisagreements.inc({ active: active.controlPath, shadow: shadow.controlPath });
      }
    },
    onDetectorError: (detector, segment) => detectorErrors.inc({ detector, segment }),
    onStateError: (kind) => stateErrors.inc({ kind }),
    onOutcome: (outcome) => outcomes.inc({ outcome }),
    onPolicyReload: (result) => policyReloads.inc({ result }),
  };
  return { registry, observer, policyReloads };
}

/** Counts and times every HTTP request by route template (never the raw URL, which would explode cardinality). */
export function registerHttpMetrics(app: FastifyInstance, registry: Registry): void {
  const requests = new Counter({
    name: "signalbox_http_requests_total",
    help: "HTTP requests by route, method and status",
    labelNames: ["route", "method", "status"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "signalbox_http_request_duration_seconds",
    help: "HTTP request duration by route",
    labelNames: ["route"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5],
    registers: [registry],
  });
  const counts = new LabelledCache((route, method, status) => requests.labels({ route, method, status }));
  const durations = new LabelledCache((route) => duration.labels({ route }));
  // a callback hook, not an async one: it runs on every request
  app.addHook("onResponse", (request, reply, done) => {
    const route = request.routeOptions.url ?? "unmatched";
    counts.get(route, request.method, String(reply.statusCode)).inc();
    durations.get(route).observe(reply.elapsedTime / 1000);
    done();
  });
}
