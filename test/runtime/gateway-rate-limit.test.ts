import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load-config.js";
import { ALICE_READ, testApp } from "../server/support.js";

/** A busy gateway on another host: one address relaying every end user. */
const GATEWAY_HOST = "10.20.30.40";

async function gatewayApp(gateways: boolean | undefined) {
  const rateLimit = { max: 2, windowMs: 60_000, exemptLoopback: true, ...(gateways === undefined ? {} : { gateways }) };
  return testApp({ gateways: true, config: { rateLimit } });
}

describe("the API rate limit and the gateway faces", () => {
  it("does not limit /gateway/* by default, while the API routes stay limited", async () => {
    const t = await gatewayApp(undefined);
    try {
      for (let i = 0; i < 6; i++) {
        const envoy = await t.app.inject({ method: "GET", url: "/gateway/envoy/todos/1", remoteAddress: GATEWAY_HOST });
        const nginx = await t.app.inject({
          method: "GET",
          url: "/gateway/nginx",
          headers: { "x-original-uri": "/todos/1", "x-original-method": "GET" },
          remoteAddress: GATEWAY_HOST,
        });
        expect([envoy.statusCode, nginx.statusCode]).not.toContain(429);
      }
      const api = () =>
        t.app.inject({
          method: "POST",
          url: "/access/v1/evaluation",
          payload: ALICE_READ,
          remoteAddress: GATEWAY_HOST,
        });
      expect((await api()).statusCode).toBe(200);
      expect((await api()).statusCode).toBe(200);
      expect((await api()).statusCode).toBe(429);
    } finally {
      await t.close();
    }
  });

  it("limits /gateway/* too when the operator opts in", async () => {
    const t = await gatewayApp(true);
    try {
      const call = () => t.app.inject({ method: "GET", url: "/gateway/envoy/todos/1", remoteAddress: GATEWAY_HOST });
      expect((await call()).statusCode).not.toBe(429);
      expect((await call()).statusCode).not.toBe(429);
      const limited = await call();
      expect(limited.statusCode).toBe(429);
      expect(limited.json().code).toBe("RATE_LIMITED");
    } finally {
      await t.close();
    }
  });

  it("is opted into with --rate-limit-gateways, SIGNALBOX_RATE_LIMIT_GATEWAYS or rateLimit.gateways", () => {
    expect(loadConfig().rateLimit.gateways).toBe(false);
    expect(loadConfig({ flags: { rateLimitGateways: "true" } }).rateLimit.gateways).toBe(true);
    expect(loadConfig({ env: { SIGNALBOX_RATE_LIMIT_GATEWAYS: "yes" } }).rateLimit.gateways).toBe(true);
    expect(
      loadConfig({ flags: { config: "sb.yaml" }, readFile: () => "rateLimit:\n  gateways: true\n" }).rateLimit.gateways,
    ).toBe(true);
  });
});
