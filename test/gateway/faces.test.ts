import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../../src/engine/engine.js";
import { SignalboxError } from "../../src/errors/index.js";
import { envoyHttpGateway } from "../../src/server/gateway/envoy-http.js";
import { nginxGateway } from "../../src/server/gateway/nginx.js";
import { createGatewayEngine, createTokenKit, gatewayConfig, type TokenKit } from "./support.js";

let kit: TokenKit;
let engine: Engine;
let app: FastifyInstance;

beforeAll(async () => {
  kit = await createTokenKit();
  engine = await createGatewayEngine();
  app = Fastify();
  const config = gatewayConfig(kit.jwksFile);
  await app.register(envoyHttpGateway, { engine, config });
  await app.register(nginxGateway, { engine, config });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await engine.close();
  kit.cleanup();
});

const asUser = (id: string, type = "user") => ({ "x-user-id": id, "x-subject-type": type });
const json = (body: string) => JSON.parse(body) as Record<string, unknown>;

describe("Envoy ext_authz HTTP face (inject, real engine)", () => {
  it("allows with the decision id and strips the client's enforcement headers and Authorization", async () => {
    const token = await kit.sign({ sub: "alice" });
    const res = await app.inject({
      method: "PATCH",
      url: "/gateway/envoy/todos/7?fields=title",
      headers: { authorization: `Bearer ${token}`, "x-signalbox-read-only": "false" },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers["x-signalbox-control-path"]).toBe("allow");
    expect(res.headers["x-signalbox-decision-id"]).toMatch(/^[0-9a-f-]{36}$/);
    const removed = String(res.headers["x-envoy-auth-headers-to-remove"]).split(", ");
    expect(removed).toContain("authorization");
    expect(removed).toContain("x-signalbox-read-only");
    expect(removed).not.toContain("x-signalbox-decision-id");
    expect(res.body).toBe("");
  });

  it("limit_session and narrow_scope add the headers the upstream enforces", async () => {
    const limited = await app.inject({ method: "GET", url: "/gateway/envoy/reports", headers: asUser("alice") });
    expect(limited.statusCode).toBe(200);
    expect(limited.headers["x-signalbox-session-ttl"]).toBe("600");
    expect(limited.headers["x-signalbox-read-only"]).toBe("true");
    expect(String(limited.headers["x-envoy-auth-headers-to-remove"])).not.toContain("x-signalbox-session-ttl");
    const narrowed = await app.inject({ method: "GET", url: "/gateway/envoy/profile", headers: asUser("alice") });
    expect(narrowed.statusCode).toBe(200);
    expect(narrowed.headers["x-signalbox-scope"]).toBe("profile:read");
  });

  it("step_up for a person is an RFC 9470 challenge", async () => {
    const res = await app.inject({ method: "GET", url: "/gateway/envoy/admin/users", headers: asUser("alice") });
    expect(res.statusCode).toBe(401);
    expect(res.headers["www-authenticate"]).toBe(
      'Bearer realm="signalbox", error="insufficient_user_authentication", error_description="the admin area needs multi-factor authentication", acr_values="urn:signalbox:loa:mfa", max_age="300"',
    );
  });

  it("step_up for a service asks for a re-issued token", async () => {
    const res = await app.inject({
      method: "GET",
      url: "/gateway/envoy/secrets/db",
      headers: asUser("payments", "service"),
    });
    expect(res.statusCode).toBe(401);
    expect(res.headers["www-authenticate"]).toContain('error="invalid_token"');
    expect(res.headers["x-signalbox-reissue"]).toBe("token");
  });

  it("throttle is a 429 with Retry-After", async () => {
    const res = await app.inject({ method: "GET", url: "/gateway/envoy/search?q=x", headers: asUser("alice") });
    expect(res.statusCode).toBe(429);
    expect(res.headers["retry-after"]).toBe("17");
  });

  it("hold is a 403 problem with the access request hint", async () => {
    const res = await app.inject({ method: "POST", url: "/gateway/envoy/payouts/p-9", headers: asUser("alice") });
    expect(res.statusCode).toBe(403);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    const body = json(res.body);
    expect(body.code).toBe("APPROVAL_REQUIRED");
    expect(body.evaluation_id).toBe(body.decision_id);
    expect(typeof (body.access_request as { expires_at?: unknown }).expires_at).toBe("string");
  });

  it("deny and quarantine are 403 problems naming the decision and its reasons", async () => {
    const deny = await app.inject({ method: "GET", url: "/gateway/envoy/todos", headers: asUser("mallory") });
    expect(deny.statusCode).toBe(403);
    expect(json(deny.body)).toMatchObject({
      code: "ACCESS_DENIED",
      control_path: "deny",
      reasons: [{ code: "blocked_user" }],
    });
    const quarantine = await app.inject({ method: "GET", url: "/gateway/envoy/todos", headers: asUser("eve") });
    expect(json(quarantine.body)).toMatchObject({ code: "QUARANTINED", control_path: "quarantine" });
  });

  it("an expired token is a 401 invalid_token, not a 5xx", async () => {
    const token = await kit.sign({ sub: "alice" }, { expiresIn: Math.floor(Date.now() / 1000) - 5 });
    const res = await app.inject({
      method: "GET",
      url: "/gateway/envoy/todos",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.statusCode).toBe(401);
    expect(res.headers["www-authenticate"]).toBe(
      'Bearer realm="signalbox", error="invalid_token", error_description="the token has expired"',
    );
    expect(res.body).not.toContain(token);
  });

  it("accepts any method and any body the proxy forwards", async () => {
    const res = await app.inject({
      method: "PUT",
      url: "/gateway/envoy/todos/7",
      headers: { ...asUser("alice"), "content-type": "application/json" },
      payload: "{not json",
    });
    expect(res.statusCode).toBe(200);
    const root = await app.inject({ method: "OPTIONS", url: "/gateway/envoy", headers: asUser("alice") });
    expect(root.statusCode).toBe(200);
  });
});

describe("NGINX auth_request face (inject, real engine)", () => {
  const nginx = (uri: string, method: string, headers: Record<string, string>) =>
    app.inject({
      method: "GET",
      url: "/gateway/nginx",
      headers: { "x-original-uri": uri, "x-original-method": method, ...headers },
    });

  it("reads the original method and URI", async () => {
    const held = await nginx("/payouts/p-1", "POST", asUser("alice"));
    expect(held.statusCode).toBe(403);
    expect(json(held.body).code).toBe("APPROVAL_REQUIRED");
    const allowed = await nginx("/payouts/p-1", "GET", asUser("alice"));
    expect(allowed.statusCode).toBe(200);
  });

  it("turns throttle into 403 plus x-signalbox-retry-after", async () => {
    const res = await nginx("/search", "GET", asUser("alice"));
    expect(res.statusCode).toBe(403);
    expect(res.headers["x-signalbox-retry-after"]).toBe("17");
    expect(json(res.body).code).toBe("THROTTLED");
  });

  it("passes the step-up challenge as a 401", async () => {
    const res = await nginx("/admin/billing", "GET", asUser("alice"));
    expect(res.statusCode).toBe(401);
    expect(res.headers["www-authenticate"]).toContain('error="insufficient_user_authentication"');
  });

  it("answers a subrequest without X-Original-URI with 403, not 400 or 500", async () => {
    const res = await app.inject({ method: "GET", url: "/gateway/nginx", headers: asUser("alice") });
    expect(res.statusCode).toBe(403);
    expect(json(res.body).code).toBe("INVALID_REQUEST");
  });
});

describe("when no decision can be made", () => {
  it("answers 5xx so the proxy applies its failure mode", async () => {
    const failing = {
      decide: async () => {
        throw new SignalboxError("AUDIT_UNAVAILABLE", "audit store is down");
      },
    };
    const broken = Fastify({ logger: false });
    await broken.register(envoyHttpGateway, { engine: failing, config: { subjectHeaders: { id: "x-user-id" } } });
    await broken.register(nginxGateway, { engine: failing, config: { subjectHeaders: { id: "x-user-id" } } });
    const envoy = await broken.inject({ method: "GET", url: "/gateway/envoy/x", headers: { "x-user-id": "a" } });
    expect(envoy.statusCode).toBe(503);
    expect(json(envoy.body).code).toBe("AUDIT_UNAVAILABLE");
    const nginx = await broken.inject({
      method: "GET",
      url: "/gateway/nginx",
      headers: { "x-user-id": "a", "x-original-uri": "/x" },
    });
    expect(nginx.statusCode).toBe(503);
    await broken.close();
  });
});
