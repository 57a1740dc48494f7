/** `GET /healthz` (the engine can decide) and `GET /readyz` (state and audit reachable). */

import type { FastifyInstance } from "fastify";
import type { Runtime } from "./runtime.js";

export function registerHealthRoutes(
  app: FastifyInstance,
  runtime: Runtime,
  isShuttingDown: () => boolean,
  isDraining: () => boolean,
): void {
  const opts = (summary: string) => ({
    schema: { tags: ["operations"], summary },
    config: { right: "public" as const, face: "ops" as const },
  });
  app.get("/healthz", opts("Liveness: the engine can decide"), async (_request, reply) => {
    const policy = runtime.engine.policy;
    if (isShuttingDown()) return reply.code(503).send({ status: "shutting_down" });
    // Still deciding, but a load balancer routing on this endpoint should move on now.
    if (isDraining()) return reply.code(503).send({ status: "draining" });
    return { status: "ok", policy: { id: policy.id, revision: policy.revision } };
  });
  app.get("/readyz", opts("Readiness: the state store and the audit trail answer"), async (_request, reply) => {
    const probe = await runtime.probe();
    const draining = isDraining();
    const ready = probe.state && probe.audit && !isShuttingDown() && !draining;
    return reply.code(ready ? 200 : 503).send({
      status: ready ? "ready" : draining ? "draining" : "not_ready",
      state: probe.state ? "ok" : "unreachable",
      audit: probe.audit ? "ok" : "unreachable",
    });
  });
}
