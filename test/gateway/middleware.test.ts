/** The middleware in real Fastify and Express apps listening on port 0, with the real engine. */

import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../../src/engine/engine.js";
import { type SignalboxExpressRequest, signalboxExpress, signalboxFastify } from "../../src/middleware/index.js";
import { createGatewayEngine, createTokenKit, gatewayConfig, type TokenKit } from "./support.js";

let kit: TokenKit;
let engine: Engine;

beforeAll(async () => {
  kit = await createTokenKit();
  engine = await createGatewayEngine();
});
afterAll(async () => {
  await engine.close();
  kit.cleanup();
});

const user = (id: string) => ({ "x-user-id": id });

describe("signalboxFastify", () => {
  let app: FastifyInstance;
  let base: string;
  let reached = 0;

  beforeAll(async () => {
    app = Fastify();
    await app.register(signalboxFastify, {
      engine,
      config: gatewayConfig(kit.jwksFile),
      skip: (_method, path) => path === "/healthz",
    });
    app.get("/healthz", async (request) => ({ checked: request.signalbox !== null }));
    app.get("/todos/:todoId", async (request) => {
      reached++;
      return { path: request.signalbox?.decision.controlPath, route: request.signalbox?.request.resource.id };
    });
    app.get("/reports", async (request) => ({
      ttl: request.headers["x-signalbox-session-ttl"],
      readOnly: request.headers["x-signalbox-read-only"],
      scope: request.headers["x-signalbox-scope"] ?? null,
    }));
    app.get("/profile", async (request) => ({ scope: request.headers["x-signalbox-scope"] ?? null }));
    app.get("/admin/:section", async () => {
      reached++;
      return { reached: true };
    });
    app.get("/search", async () => ({ reached: true }));
    base = await app.listen({ port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await app.close();
  });

  it("lets an allowed request through with the decision on the request", async () => {
    const token = await kit.sign({ sub: "alice" });
    const res = await fetch(`${base}/todos/5`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ path: "allow", route: "/todos/{todoId}" });
    expect(res.headers.get("x-signalbox-decision-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("gives the handler the constraints and drops forged ones", async () => {
    const limited = await fetch(`${base}/reports`, { headers: { ...user("alice"), "x-signalbox-scope": "admin" } });
    expect(await limited.json()).toEqual({ ttl: "600", readOnly: "true", scope: null });
    const narrowed = await fetch(`${base}/profile`, { headers: { ...user("alice"), "x-signalbox-scope": "admin" } });
    expect(await narrowed.json()).toEqual({ scope: "profile:read" });
  });

  it("answers step-up, throttle and deny itself; the handler never runs", async () => {
    const before = reached;
    const stepUp = await fetch(`${base}/admin/users`, { headers: user("alice") });
    expect(stepUp.status).toBe(401);
    expect(stepUp.headers.get("www-authenticate")).toContain('error="insufficient_user_authentication"');
    const throttled = await fetch(`${base}/search`, { headers: user("alice") });
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get("retry-after")).toBe("17");
    const denied = await fetch(`${base}/todos/1`, { headers: user("mallory") });
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { code: string }).code).toBe("ACCESS_DENIED");
    expect(reached).toBe(before);
  });

  it("skips what it is told to skip and refuses a request with no subject", async () => {
    const health = await fetch(`${base}/healthz`);
    expect(await health.json()).toEqual({ checked: false });
    const anonymous = await fetch(`${base}/todos/1`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toBe('Bearer realm="signalbox"');
  });
});

describe("signalboxExpress", () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const app = express();
    app.use(signalboxExpress({ engine, config: gatewayConfig(kit.jwksFile) }));
    app.get("/todos/:todoId", (req, res) => {
      const verdict = (req as unknown as SignalboxExpressRequest).signalbox;
      res.json({ path: verdict?.decision.controlPath, subject: verdict?.request.subject.id });
    });
    app.post("/payouts/:payoutId", (_req, res) => {
      res.json({ reached: true });
    });
    app.get("/reports", (req, res) => {
      res.json({ ttl: req.headers["x-signalbox-session-ttl"] });
    });
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, "127.0.0.1", () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  });

  it("lets an allowed request through with the verdict", async () => {
    const token = await kit.sign({ sub: "alice" });
    const res = await fetch(`${base}/todos/5`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ path: "allow", subject: "alice" });
  });

  it("passes the session limit to the handler", async () => {
    const res = await fetch(`${base}/reports`, { headers: user("alice") });
    expect(await res.json()).toEqual({ ttl: "600" });
  });

  it("holds a payout with a problem body and rejects an expired token", async () => {
    const held = await fetch(`${base}/payouts/p-2`, { method: "POST", headers: user("alice") });
    expect(held.status).toBe(403);
    expect(held.headers.get("content-type")).toBe("application/problem+json");
    const body = (await held.json()) as { code: string; access_request?: { expires_at?: string } };
    expect(body.code).toBe("APPROVAL_REQUIRED");
    expect(typeof body.access_request?.expires_at).toBe("string");
    const expired = await kit.sign({ sub: "alice" }, { expiresIn: Math.floor(Date.now() / 1000) - 5 });
    const rejected = await fetch(`${base}/todos/1`, { headers: { authorization: `Bearer ${expired}` } });
    expect(rejected.status).toBe(401);
    expect(rejected.headers.get("www-authenticate")).toContain('error="invalid_token"');
  });

  it("fails closed when no decision can be made", async () => {
    const app = express();
    const errors: unknown[] = [];
    app.use(
      signalboxExpress({
        engine: {
          decide: async () => {
            throw new Error("engine down");
          },
        },
        config: { subjectHeaders: { id: "x-user-id" } },
        onError: (err) => errors.push(err),
      }),
    );
    app.get("/x", (_req, res) => {
      res.json({ reached: true });
    });
    const s = await new Promise<Server>((resolve) => {
      const srv = app.listen(0, "127.0.0.1", () => resolve(srv));
    });
    const res = await fetch(`http://127.0.0.1:${(s.address() as AddressInfo).port}/x`, { headers: user("a") });
    await new Promise<void>((resolve) => s.close(() => resolve()));
    expect(res.status).toBe(500);
    expect(((await res.json()) as { code: string }).code).toBe("INTERNAL");
    expect(errors).toHaveLength(1);
  });
});
