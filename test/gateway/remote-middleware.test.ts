/** The middleware asking a remote Signalbox (the real service app on a socket) over AuthZEN. */

import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../../src/config/serve-config.js";
import type { Engine } from "../../src/engine/engine.js";
import { fromAuthzen, signalboxFastify } from "../../src/middleware/index.js";
import { buildApp } from "../../src/server/app.js";
import { ObserverHub, type Runtime } from "../../src/server/runtime.js";
import { createGatewayEngine } from "./support.js";

let engine: Engine;
let service: FastifyInstance;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  engine = await createGatewayEngine();
  const hub = new ObserverHub();
  const runtime: Runtime = {
    engine,
    observe: (o) => hub.subscribe(o),
    probe: async () => ({ state: true, audit: true }),
    reloadPolicy: async () => ({ ok: true, id: engine.policy.id, revision: engine.policy.revision }),
    close: () => engine.close(),
  };
  service = buildApp({
    runtime,
    config: { ...DEFAULT_CONFIG, apiKeys: [{ right: "decide", key: "k-123" }] },
    logger: false,
    processMetrics: false,
  });
  const serviceUrl = await service.listen({ port: 0, host: "127.0.0.1" });

  app = Fastify();
  await app.register(signalboxFastify, {
    remote: { url: serviceUrl, apiKey: "k-123" },
    config: { subjectHeaders: { id: "x-user-id" }, routes: [{ path: "/admin/{section}" }, { path: "/search" }] },
  });
  app.get("/*", async (request) => ({ path: request.signalbox?.decision.controlPath }));
  base = await app.listen({ port: 0, host: "127.0.0.1" });
});
afterAll(async () => {
  await app?.close();
  await service?.close();
  await engine?.close();
});

describe("signalboxFastify with a remote Signalbox", () => {
  it("applies the remote decision: allow, step-up and throttle", async () => {
    const allowed = await fetch(`${base}/todos/1`, { headers: { "x-user-id": "alice" } });
    expect(allowed.status).toBe(200);
    expect(await allowed.json()).toEqual({ path: "allow" });
    const stepUp = await fetch(`${base}/admin/users`, { headers: { "x-user-id": "alice" } });
    expect(stepUp.status).toBe(401);
    expect(stepUp.headers.get("www-authenticate")).toContain('acr_values="urn:signalbox:loa:mfa", max_age="300"');
    const throttled = await fetch(`${base}/search`, { headers: { "x-user-id": "alice" } });
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get("retry-after")).toBe("17");
  });

  it("fails closed when the remote service is unreachable", async () => {
    const orphan = Fastify();
    await orphan.register(signalboxFastify, {
      remote: { url: "http://127.0.0.1:9", timeoutMs: 500 },
      config: { subjectHeaders: { id: "x-user-id" } },
    });
    orphan.get("/x", async () => ({ reached: true }));
    const res = await orphan.inject({ method: "GET", url: "/x", headers: { "x-user-id": "a" } });
    await orphan.close();
    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body).code).toBe("INTERNAL");
  });
});

describe("reading an AuthZEN answer", () => {
  it("never lets context loosen the boolean", () => {
    expect(fromAuthzen({ decision: false, context: { control_path: "allow", decision_id: "d" } }).controlPath).toBe(
      "deny",
    );
    expect(fromAuthzen({ decision: true, context: { control_path: "deny" } }).controlPath).toBe("allow");
    expect(fromAuthzen({ decision: false }).controlPath).toBe("deny");
    expect(fromAuthzen({ decision: false, context: { control_path: "throttle", retry_after: 5 } })).toMatchObject({
      controlPath: "throttle",
      extras: { retry_after: 5 },
    });
  });

  it("refuses an answer without a boolean decision", () => {
    expect(() => fromAuthzen({ context: {} })).toThrow(/no boolean decision/);
  });
});
