/** One end-to-end run over a real socket per face: Envoy HTTP, NGINX auth_request, Envoy gRPC. */

import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../../src/engine/engine.js";
import { EXTERNAL_AUTH_PROTO, PROTO_ROOT } from "../../src/grpc/envoy-authorization.js";
import { type RunningGrpcServer, startGrpcServer } from "../../src/grpc/grpc-server.js";
import { envoyHttpGateway } from "../../src/server/gateway/envoy-http.js";
import { nginxGateway } from "../../src/server/gateway/nginx.js";
import { createGatewayEngine, createTokenKit, gatewayConfig, type TokenKit } from "./support.js";

let kit: TokenKit;
let engine: Engine;
let app: FastifyInstance;
let base: string;
let grpcServer: RunningGrpcServer;
type AuthorizationClient = grpc.Client & {
  Check(request: unknown, callback: (err: grpc.ServiceError | null, response?: unknown) => void): void;
};
let client: AuthorizationClient;

beforeAll(async () => {
  kit = await createTokenKit();
  engine = await createGatewayEngine();
  const config = gatewayConfig(kit.jwksFile);
  app = Fastify();
  await app.register(envoyHttpGateway, { engine, config });
  await app.register(nginxGateway, { engine, config });
  base = await app.listen({ port: 0, host: "127.0.0.1" });
  grpcServer = await startGrpcServer({ engine, config, port: 0, host: "127.0.0.1" });
  // The client decodes enums as numbers so the test reads HTTP statuses as Envoy would.
  const definition = protoLoader.loadSync(EXTERNAL_AUTH_PROTO, {
    keepCase: true,
    longs: String,
    enums: Number,
    defaults: false,
    oneofs: true,
    includeDirs: [PROTO_ROOT],
  });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    envoy: { service: { auth: { v3: { Authorization: grpc.ServiceClientConstructor } } } };
  };
  const Authorization = pkg.envoy.service.auth.v3.Authorization;
  client = new Authorization(
    `127.0.0.1:${grpcServer.port}`,
    grpc.credentials.createInsecure(),
  ) as unknown as AuthorizationClient;
});

afterAll(async () => {
  client?.close();
  await grpcServer?.close();
  await app?.close();
  await engine?.close();
  kit?.cleanup();
});

interface CheckResponse {
  status: { code?: number; message?: string };
  http_response?: string;
  ok_response?: { headers?: { header: { key: string; value: string } }[]; headers_to_remove?: string[] };
  denied_response?: { status: { code: number }; headers?: { header: { key: string; value: string } }[]; body?: string };
  dynamic_metadata?: { fields: Record<string, { stringValue?: string }> };
}

function check(method: string, path: string, headers: Record<string, string>): Promise<CheckResponse> {
  const request = {
    attributes: {
      source: { address: { socket_address: { address: "203.0.113.9", port_value: 50123 } } },
      request: {
        http: { id: "req-1", method, path, host: "api.example.test", scheme: "https", protocol: "HTTP/1.1", headers },
      },
    },
  };
  return new Promise((resolve, reject) => {
    client.Check(request, (err: grpc.ServiceError | null, res?: unknown) =>
      err ? reject(err) : resolve(res as CheckResponse),
    );
  });
}

const headerOf = (list: { header: { key: string; value: string } }[] | undefined, key: string) =>
  list?.find((h) => h.header.key === key)?.header.value;

describe("Envoy ext_authz HTTP service over a socket", () => {
  it("answers allow, step-up, throttle and deny as Envoy expects", async () => {
    const token = await kit.sign({ sub: "alice", acr: "urn:signalbox:loa:pwd" });
    const auth = { authorization: `Bearer ${token}` };

    const allowed = await fetch(`${base}/gateway/envoy/todos/3`, { method: "DELETE", headers: auth });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("x-signalbox-control-path")).toBe("allow");

    const stepUp = await fetch(`${base}/gateway/envoy/admin/users`, { headers: auth });
    expect(stepUp.status).toBe(401);
    expect(stepUp.headers.get("www-authenticate")).toBe(
      'Bearer realm="signalbox", error="insufficient_user_authentication", error_description="the admin area needs multi-factor authentication", acr_values="urn:signalbox:loa:mfa", max_age="300"',
    );

    const throttled = await fetch(`${base}/gateway/envoy/search?q=a`, { headers: auth });
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get("retry-after")).toBe("17");

    const mallory = await kit.sign({ sub: "mallory" });
    const denied = await fetch(`${base}/gateway/envoy/todos`, { headers: { authorization: `Bearer ${mallory}` } });
    expect(denied.status).toBe(403);
    expect(denied.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    const body = (await denied.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      status: 403,
      code: "ACCESS_DENIED",
      control_path: "deny",
      reasons: [{ code: "blocked_user" }],
    });
    expect(typeof body.decision_id).toBe("string");
  });
});

describe("NGINX auth_request over a socket", () => {
  const sub = (uri: string, method: string, headers: Record<string, string>) =>
    fetch(`${base}/gateway/nginx`, { headers: { "x-original-uri": uri, "x-original-method": method, ...headers } });

  it("answers only 200, 401 and 403, with the step-up challenge and the retry header", async () => {
    const token = await kit.sign({ sub: "alice" });
    const auth = { authorization: `Bearer ${token}` };

    const allowed = await sub("/reports", "GET", auth);
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("x-signalbox-session-ttl")).toBe("600");

    const stepUp = await sub("/admin/settings", "GET", auth);
    expect(stepUp.status).toBe(401);
    expect(stepUp.headers.get("www-authenticate")).toContain('error="insufficient_user_authentication"');
    expect(stepUp.headers.get("www-authenticate")).toContain('acr_values="urn:signalbox:loa:mfa"');

    const throttled = await sub("/search", "GET", auth);
    expect(throttled.status).toBe(403);
    expect(throttled.headers.get("x-signalbox-retry-after")).toBe("17");

    const eve = await kit.sign({ sub: "eve" });
    const quarantined = await sub("/todos", "GET", { authorization: `Bearer ${eve}` });
    expect(quarantined.status).toBe(403);
    expect(((await quarantined.json()) as { code: string }).code).toBe("QUARANTINED");
  });
});

describe("Envoy ext_authz gRPC Check with a real client", () => {
  it("allows with OK and ok_response headers for the upstream", async () => {
    const token = await kit.sign({ sub: "alice" });
    const res = await check("GET", "/reports", { authorization: `Bearer ${token}`, "x-signalbox-scope": "forged" });
    expect(res.status.code ?? 0).toBe(0);
    expect(res.http_response).toBe("ok_response");
    expect(headerOf(res.ok_response?.headers, "x-signalbox-control-path")).toBe("limit_session");
    expect(headerOf(res.ok_response?.headers, "x-signalbox-session-ttl")).toBe("600");
    expect(res.ok_response?.headers_to_remove).toEqual(expect.arrayContaining(["authorization", "x-signalbox-scope"]));
    expect(res.dynamic_metadata?.fields.control_path?.stringValue).toBe("limit_session");
  });

  it("step-up: UNAUTHENTICATED with a 401 denied_response carrying the RFC 9470 challenge", async () => {
    const token = await kit.sign({ sub: "alice" });
    const res = await check("POST", "/admin/users", { authorization: `Bearer ${token}` });
    expect(res.status.code).toBe(16);
    expect(res.denied_response?.status.code).toBe(401);
    expect(headerOf(res.denied_response?.headers, "www-authenticate")).toBe(
      'Bearer realm="signalbox", error="insufficient_user_authentication", error_description="the admin area needs multi-factor authentication", acr_values="urn:signalbox:loa:mfa", max_age="300"',
    );
  });

  it("throttle: PERMISSION_DENIED with a 429 and Retry-After", async () => {
    const res = await check("GET", "/search?q=1", { "x-user-id": "alice" });
    expect(res.status.code).toBe(7);
    expect(res.denied_response?.status.code).toBe(429);
    expect(headerOf(res.denied_response?.headers, "retry-after")).toBe("17");
  });

  it("deny: PERMISSION_DENIED with a 403 problem body", async () => {
    const res = await check("GET", "/todos", { "x-user-id": "mallory" });
    expect(res.status.code).toBe(7);
    expect(res.denied_response?.status.code).toBe(403);
    expect(headerOf(res.denied_response?.headers, "content-type")).toBe("application/problem+json");
    expect(JSON.parse(res.denied_response?.body ?? "{}")).toMatchObject({
      code: "ACCESS_DENIED",
      control_path: "deny",
    });
  });

  it("an invalid token: UNAUTHENTICATED with a 401 invalid_token challenge", async () => {
    const res = await check("GET", "/todos", { authorization: "Bearer not.a.token" });
    expect(res.status.code).toBe(16);
    expect(res.denied_response?.status.code).toBe(401);
    expect(headerOf(res.denied_response?.headers, "www-authenticate")).toContain('error="invalid_token"');
  });

  it("fails the RPC with UNAVAILABLE when it cannot decide", async () => {
    const errors: unknown[] = [];
    const broken = await startGrpcServer({
      engine: {
        decide: async () => {
          throw new Error("engine down");
        },
      },
      config: { subjectHeaders: { id: "x-user-id" } },
      port: 0,
      onError: (err) => errors.push(err),
    });
    const pkg = grpc.loadPackageDefinition(
      protoLoader.loadSync(EXTERNAL_AUTH_PROTO, { keepCase: true, includeDirs: [PROTO_ROOT] }),
    ) as unknown as { envoy: { service: { auth: { v3: { Authorization: grpc.ServiceClientConstructor } } } } };
    const c = new pkg.envoy.service.auth.v3.Authorization(
      `127.0.0.1:${broken.port}`,
      grpc.credentials.createInsecure(),
    ) as unknown as AuthorizationClient;
    const err = await new Promise<grpc.ServiceError | null>((resolve) =>
      c.Check(
        { attributes: { request: { http: { method: "GET", path: "/", headers: { "x-user-id": "a" } } } } },
        (e: grpc.ServiceError | null) => resolve(e),
      ),
    );
    c.close();
    await broken.close();
    expect(err?.code).toBe(grpc.status.UNAVAILABLE);
    expect(errors).toHaveLength(1);
  });
});
