import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isSignalboxError } from "../../src/errors/index.js";
import { createBearerTokenVerifier } from "../../src/server/gateway/bearer-token.js";
import { parseGatewayConfig } from "../../src/server/gateway/config.js";
import { createGatewayRequestBuilder, type GatewayRequestBuilder } from "../../src/server/gateway/gateway-request.js";
import { AUDIENCE, createTokenKit, gatewayConfig, ISSUER, type TokenKit } from "./support.js";

let kit: TokenKit;
let builder: GatewayRequestBuilder;

beforeAll(async () => {
  kit = await createTokenKit();
  const config = parseGatewayConfig(gatewayConfig(kit.jwksFile));
  builder = createGatewayRequestBuilder(
    config,
    createBearerTokenVerifier(config.jwt ?? { algorithms: [], clockToleranceSec: 0 }),
  );
});
afterAll(() => kit.cleanup());

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("subject from a verified bearer JWT", () => {
  it("takes sub, token and session facts from the claims", async () => {
    const token = await kit.sign({
      sub: "alice",
      jti: "tok-1",
      scope: "todos:read todos:write",
      client_id: "todo-web",
      auth_time: 1795852800,
      acr: "urn:signalbox:loa:pwd",
      amr: ["pwd"],
      sid: "sess-9",
    });
    const result = await builder.build({
      method: "get",
      path: "/todos/42?expand=1",
      headers: { ...bearer(token), "user-agent": "curl/8.5", host: "api.example.test" },
      peer: "::ffff:203.0.113.7",
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { request } = result;
    expect(request.subject).toEqual({ type: "user", id: "alice" });
    expect(request.action).toEqual({ name: "GET", properties: { method: "GET" } });
    expect(request.resource).toEqual({
      type: "route",
      id: "/todos/{todoId}",
      properties: { path: "/todos/42", params: { todoId: "42" }, host: "api.example.test" },
    });
    expect(request.context?.ip).toBe("203.0.113.7");
    expect(request.context?.user_agent).toBe("curl/8.5");
    expect(request.context?.token).toMatchObject({
      jti: "tok-1",
      scope: "todos:read todos:write",
      client_id: "todo-web",
    });
    expect(typeof request.context?.token?.iat).toBe("number");
    expect(typeof request.context?.token?.exp).toBe("number");
    expect(request.context?.session).toEqual({
      id: "sess-9",
      auth_time: 1795852800,
      acr: "urn:signalbox:loa:pwd",
      amr: ["pwd"],
    });
  });

  it("copies route sensitivity and privilege onto the resource and action", async () => {
    const token = await kit.sign({ sub: "alice" });
    const result = await builder.build({ method: "DELETE", path: "/admin/users", headers: bearer(token) });
    expect(result.ok && result.request.action.properties).toEqual({ method: "DELETE", privileged: true });
    expect(result.ok && result.request.resource.properties?.sensitivity).toBe("high");
  });

  it("rejects an expired token with invalid_token", async () => {
    const token = await kit.sign({ sub: "alice" }, { expiresIn: Math.floor(Date.now() / 1000) - 60 });
    const result = await builder.build({ method: "GET", path: "/todos", headers: bearer(token) });
    expect(result).toEqual({ ok: false, rejection: { reason: "invalid_token", description: "the token has expired" } });
  });

  it("rejects a token signed by an unknown key", async () => {
    const token = await kit.signWithStrangerKey({ sub: "alice" });
    const result = await builder.build({ method: "GET", path: "/todos", headers: bearer(token) });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.rejection.reason).toBe("invalid_token");
    expect(result.rejection.description).toBe("the token's signature does not verify");
  });

  it("rejects a wrong issuer and a wrong audience, naming the claim", async () => {
    const wrongIss = await kit.sign({ sub: "alice" }, { issuer: "https://elsewhere.test" });
    const wrongAud = await kit.sign({ sub: "alice" }, { audience: "another-api" });
    const a = await builder.build({ method: "GET", path: "/todos", headers: bearer(wrongIss) });
    const b = await builder.build({ method: "GET", path: "/todos", headers: bearer(wrongAud) });
    expect(!a.ok && a.rejection.description).toBe("the token's iss claim is not acceptable");
    expect(!b.ok && b.rejection.description).toBe("the token's aud claim is not acceptable");
  });

  it("rejects garbage and a token without sub, and never echoes the token", async () => {
    const noSub = await kit.sign({ scope: "x" });
    const garbage = "not.a.jwt";
    for (const token of [noSub, garbage]) {
      const result = await builder.build({ method: "GET", path: "/todos", headers: bearer(token) });
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.rejection.reason).toBe("invalid_token");
      expect(result.rejection.description).not.toContain(token);
    }
  });

  it("prefers the verified token over a subject header", async () => {
    const token = await kit.sign({ sub: "alice" });
    const result = await builder.build({
      method: "GET",
      path: "/todos",
      headers: { ...bearer(token), "x-user-id": "mallory" },
    });
    expect(result.ok && result.request.subject.id).toBe("alice");
  });

  it("takes the subject type from a configured claim", async () => {
    const kit2 = parseGatewayConfig({ jwt: { jwksFile: kit.jwksFile, subjectTypeClaim: "sub_type" } });
    const b = createGatewayRequestBuilder(
      kit2,
      createBearerTokenVerifier(kit2.jwt ?? { algorithms: [], clockToleranceSec: 0 }),
    );
    const token = await kit.sign({ sub: "ci-runner", sub_type: "service" });
    const result = await b.build({ method: "GET", path: "/", headers: bearer(token) });
    expect(result.ok && result.request.subject).toEqual({ type: "service", id: "ci-runner" });
  });
});

describe("subject from configured headers", () => {
  it("reads the id and type headers", async () => {
    const result = await builder.build({
      method: "POST",
      path: "/payouts/p-1",
      headers: { "x-user-id": "build-bot", "x-subject-type": "service" },
    });
    expect(result.ok && result.request.subject).toEqual({ type: "service", id: "build-bot" });
    expect(result.ok && result.request.resource.id).toBe("/payouts/{payoutId}");
  });

  it("defaults the type to the configured subject type", async () => {
    const result = await builder.build({ method: "GET", path: "/todos", headers: { "x-user-id": "bob" } });
    expect(result.ok && result.request.subject).toEqual({ type: "user", id: "bob" });
  });

  it("without token or header the subject is missing", async () => {
    const result = await builder.build({ method: "GET", path: "/todos", headers: { authorization: "undefined" } });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.rejection.reason).toBe("missing_subject");
  });

  it("ignores bearer tokens when no JWT verification is configured", async () => {
    const config = parseGatewayConfig({ subjectHeaders: { id: "x-user-id" } });
    const b = createGatewayRequestBuilder(config);
    const token = await kit.sign({ sub: "alice" });
    const withHeader = await b.build({ method: "GET", path: "/", headers: { ...bearer(token), "x-user-id": "bob" } });
    expect(withHeader.ok && withHeader.request.subject.id).toBe("bob");
    const withoutHeader = await b.build({ method: "GET", path: "/", headers: bearer(token) });
    expect(!withoutHeader.ok && withoutHeader.rejection.reason).toBe("missing_subject");
  });
});

describe("routes and client address", () => {
  it("names an unmatched path by itself, or denies it when configured", async () => {
    const open = await builder.build({ method: "GET", path: "/nowhere/else?x=1", headers: { "x-user-id": "bob" } });
    expect(open.ok && open.request.resource).toEqual({
      type: "route",
      id: "/nowhere/else",
      properties: { path: "/nowhere/else" },
    });
    const strict = createGatewayRequestBuilder(
      parseGatewayConfig({ subjectHeaders: { id: "x-user-id" }, routes: [{ path: "/todos" }], unmatchedRoute: "deny" }),
    );
    const denied = await strict.build({ method: "GET", path: "/nowhere", headers: { "x-user-id": "bob" } });
    expect(!denied.ok && denied.rejection).toEqual({
      reason: "route_not_allowed",
      description: 'no configured route matches GET "/nowhere"',
    });
  });

  it("respects the route's method", async () => {
    const get = await builder.build({ method: "GET", path: "/payouts/p-1", headers: { "x-user-id": "bob" } });
    expect(get.ok && get.request.resource.id).toBe("/payouts/p-1");
  });

  it("uses x-forwarded-for only when told to trust it", async () => {
    const headers = { "x-user-id": "bob", "x-forwarded-for": "198.51.100.4, 10.0.0.2" };
    const untrusted = await builder.build({ method: "GET", path: "/", headers, peer: "10.0.0.2" });
    expect(untrusted.ok && untrusted.request.context?.ip).toBe("10.0.0.2");
    const trusting = createGatewayRequestBuilder(
      parseGatewayConfig({ subjectHeaders: { id: "x-user-id" }, trustForwardedFor: true }),
    );
    const trusted = await trusting.build({ method: "GET", path: "/", headers, peer: "10.0.0.2" });
    expect(trusted.ok && trusted.request.context?.ip).toBe("198.51.100.4");
  });
});

describe("configuration", () => {
  const problemsOf = (raw: unknown): string[] => {
    try {
      parseGatewayConfig(raw);
    } catch (err) {
      if (isSignalboxError(err) && err.code === "CONFIG_INVALID") return err.problems.map((p) => p.path ?? "");
      throw err;
    }
    return [];
  };

  it("fills in defaults", () => {
    const c = parseGatewayConfig(undefined);
    expect(c).toMatchObject({
      subjectType: "user",
      unmatchedRoute: "path",
      trustForwardedFor: false,
      realm: "signalbox",
    });
    expect(c.routes).toEqual([]);
  });

  it("names every bad key", () => {
    expect(
      problemsOf({
        jwt: { issuer: ISSUER, audience: AUDIENCE, algorithms: ["HS256"] },
        routes: [{ path: "todos" }, { path: "/a/{b", method: "get it" }],
        unmatchedRoute: "maybe",
        subjectHeaders: { id: "bad header" },
        colour: "blue",
      }).sort(),
    ).toEqual(
      [
        "gateway.colour",
        "gateway.jwt",
        "gateway.jwt.algorithms",
        "gateway.routes[0].path",
        "gateway.routes[1].method",
        "gateway.routes[1].path",
        "gateway.subjectHeaders.id",
        "gateway.unmatchedRoute",
      ].sort(),
    );
  });

  it("refuses a JWKS file that is not a key set", () => {
    expect(() =>
      createBearerTokenVerifier({ jwksFile: "/nonexistent/jwks.json", algorithms: ["ES256"], clockToleranceSec: 0 }),
    ).toThrow(/cannot read a JSON key set/);
  });
});

describe("key sources and algorithms", () => {
  it("refuses a token signed with an algorithm outside the allowed list", async () => {
    const verifier = createBearerTokenVerifier({ jwksFile: kit.jwksFile, algorithms: ["RS256"], clockToleranceSec: 0 });
    const token = await kit.sign({ sub: "alice" });
    expect(await verifier.verify(token)).toEqual({
      ok: false,
      description: "the token's signing algorithm is not accepted",
    });
  });

  it("verifies against a JWKS URL, and treats an unreachable one as an outage, not a bad token", async () => {
    const jwks = readFileSync(kit.jwksFile, "utf8");
    const server = createServer((_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(jwks);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const verifier = createBearerTokenVerifier({
        jwksUrl: `http://127.0.0.1:${port}/jwks.json`,
        issuer: ISSUER,
        algorithms: ["ES256"],
        clockToleranceSec: 0,
      });
      const result = await verifier.verify(await kit.sign({ sub: "alice" }));
      expect(result.ok && result.claims.sub).toBe("alice");
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    const unreachable = createBearerTokenVerifier({
      jwksUrl: `http://127.0.0.1:${port}/jwks.json`,
      algorithms: ["ES256"],
      clockToleranceSec: 0,
    });
    await expect(unreachable.verify(await kit.sign({ sub: "alice" }))).rejects.toThrow();
  });
});
