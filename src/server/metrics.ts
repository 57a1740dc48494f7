/** Prometheus metrics of one app: a registry of its own, fed by engine events and HTTP hooks. */

import type { FastifyInstance } from "fastify";
import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type { EngineObserver } from "../engine/engine.js";
import type { StateStoreStats } from "../state/port.js";
import { HotCounter, HotHistogram } from "./hot-metrics.js";
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

export function createServiceMetrics(runtime: Runtime, options: { processMetrics?: boolean } = {}): ServiceMetrics {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: "signalbox_" });

  // updated on every decision: kept children, one addition per update (hot-metrics.ts)
  const decisions = new HotCounter(
    "signalbox_decisions_total",
    "Decisions by control path and segment",
    ["control_path", "segment"],
    registry,
  );
  const shadowDisagreements = new Counter({
    name: "signalbox_shadow_disagreements_total",
    help: "Shadow-policy decisions whose control path differs from the active policy's",
    labelNames: ["active", "shadow"] as const,
    registers: [registry],
  });
  const latency = new HotHistogram(
    "signalbox_decision_duration_seconds",
    "Engine time per decision (state, detectors, policy, audit commit)",
    [],
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registry,
  ).child();
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
  registerStateStoreMetrics(runtime, registry);
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

  const observer: EngineObserver = {
    onDecision(d) {
      decisions.child(d.controlPath, d.segment).inc();
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

/**
 * A state store that talks to a server (Redis) keeps running totals (`StateStore.stats`); they are
 * read at each scrape. Stores without them (memory, SQLite) add no series.
 */
function registerStateStoreMetrics(runtime: Runtime, registry: Registry): void {
  if (runtime.engine.state.stats === undefined) return;
  const read = (): StateStoreStats | undefined => runtime.engine.state.stats?.();
  const total = (name: string, help: string, value: (s: StateStoreStats) => number): void => {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const stats = read();
        if (stats === undefined) return;
        this.reset();
        this.inc(value(stats));
      },
    });
  };
  total("signalbox_state_round_trips_total", "Network round trips to the state server", (s) => s.roundTrips);
  total(
    "signalbox_state_server_changes_total",
    "Reconnections that reached another state server (failover, restart) and Cluster slot moves seen",
    (s) => s.serverChanges,
  );
  total(
    "signalbox_state_slot_moved_retries_total",
    "Redis Cluster calls sent again by slot after meeting a moved slot (a resharding)",
    (s) => s.slotMovedRetries,
  );
  new Counter({
    name: "signalbox_state_profile_copy_checks_total",
    help: "Identity profile reads checked against the node's copy, by result (same: served from the copy)",
    labelNames: ["result"] as const,
    registers: [registry],
    collect() {
      const stats = read();
      if (stats === undefined) return;
      this.reset();
      this.inc({ result: "same" }, stats.copyHits);
      this.inc({ result: "stale" }, stats.copyStale);
    },
  });
}

/** Counts and times every HTTP request by route template (never the raw URL, which would explode cardinality). */
export function registerHttpMetrics(app: FastifyInstance, registry: Registry): void {
  const requests = new HotCounter(
    "signalbox_http_requests_total",
    "HTTP requests by route, method and status",
    ["route", "method", "status"],
    registry,
  );
  const duration = new HotHistogram(
    "signalbox_http_request_duration_seconds",
    "HTTP request duration by route",
    ["route"],
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5],
    registry,
  );
  // a callback hook, not an async one: it runs on every request
  app.addHook("onResponse", (request, reply, done) => {
    const route = request.routeOptions.url ?? "unmatched";
    requests.child(route, request.method, String(reply.statusCode)).inc();
    duration.child(route).observe(reply.elapsedTime / 1000);
    done();
  });
}
