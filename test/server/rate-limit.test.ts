import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { registerProblemHandling } from "../../src/server/problem.js";
import { clientKey, FixedWindowLimiter, registerRateLimit } from "../../src/server/rate-limit.js";
import { ALICE_READ, testApp } from "./support.js";

describe("clientKey", () => {
  it("keys IPv4 by address and an IPv4-mapped IPv6 address as the IPv4 address it carries", () => {
    expect(clientKey("203.0.113.9")).toBe("203.0.113.9");
    expect(clientKey("::ffff:203.0.113.9")).toBe("203.0.113.9");
    expect(clientKey("::FFFF:cb00:7109")).toBe("203.0.113.9");
  });

  it("keys IPv6 by its /64, whatever the spelling", () => {
    const a = clientKey("2001:db8:1:2:aaaa::1");
    expect(a).toBe("20010db8:10002::/64");
    expect(clientKey("2001:0DB8:0001:0002:ffff:ffff:ffff:ffff")).toBe(a);
    expect(clientKey("2001:db8:1:3::1")).not.toBe(a);
  });

  it("keys text that is not an address as itself, lowercased", () => {
    expect(clientKey("Unknown")).toBe("unknown");
  });
});

describe("FixedWindowLimiter", () => {
  it("counts per key within a window and starts over when the window has passed", () => {
    const l = new FixedWindowLimiter(2, 1000);
    expect(l.hit("a", 0)).toEqual({ count: 1, resetInMs: 1000 });
    expect(l.hit("a", 400)).toEqual({ count: 2, resetInMs: 600 });
    expect(l.hit("b", 400)).toEqual({ count: 1, resetInMs: 1000 });
    expect(l.hit("a", 999)).toEqual({ count: 3, resetInMs: 1 });
    expect(l.hit("a", 1000)).toEqual({ count: 1, resetInMs: 1000 });
  });

  it("stays within its client bound: expired windows go first, then the oldest, down to 90%", () => {
    const l = new FixedWindowLimiter(5, 1000, 10);
    l.hit("old", 0);
    for (let i = 0; i < 9; i++) l.hit(`k${i}`, 1500 + i);
    expect(l.clients).toBe(10);
    l.hit("new", 1600); // 11 clients: "old" has expired and goes first, then "k0", the oldest, down to 9
    expect(l.clients).toBe(9);
    expect(l.hit("k0", 1601).count).toBe(1); // forgotten, counted afresh
    expect(l.hit("k1", 1602).count).toBe(2); // remembered
    expect(l.hit("new", 1603).count).toBe(2);
  });

  it("pays for a flood of new clients with an occasional pass, not one per request", () => {
    const l = new FixedWindowLimiter(5, 60_000, 1000);
    const started = performance.now();
    for (let i = 0; i < 200_000; i++) l.hit(`flood-${i}`, i);
    expect(l.clients).toBeLessThanOrEqual(1000);
    // one pass per request would visit 200,000 × 1,000 windows; this stays far below a second
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe("the rate-limit hook", () => {
  async function limitedApp(now: { t: number }) {
    const app = Fastify({ logger: false });
    registerProblemHandling(app);
    registerRateLimit(app, {
      max: 2,
      windowMs: 10_000,
      exempt: (request) => request.headers["x-exempt"] === "1",
      now: () => now.t,
    });
    app.get("/x", async () => ({ ok: true }));
    await app.ready();
    return app;
  }

  it("sends the limit headers, then a 429 problem with Retry-After, until the window ends", async () => {
    const now = { t: 1_000_000 };
    const app = await limitedApp(now);
    try {
      const call = (remoteAddress = "203.0.113.9") => app.inject({ method: "GET", url: "/x", remoteAddress });
      const first = await call();
      expect(first.statusCode).toBe(200);
      expect(first.headers).toMatchObject({
        "x-ratelimit-limit": "2",
        "x-ratelimit-remaining": "1",
        "x-ratelimit-reset": "10",
      });
      now.t += 2500;
      expect((await call()).headers["x-ratelimit-remaining"]).toBe("0");
      const limited = await call();
      expect(limited.statusCode).toBe(429);
      expect(limited.headers["content-type"]).toMatch(/^application\/problem\+json/);
      expect(limited.headers["retry-after"]).toBe("8");
      expect(limited.headers["x-ratelimit-remaining"]).toBe("0");
      expect(limited.json()).toMatchObject({ code: "RATE_LIMITED", status: 429 });
      // another client, and the same /64 under another address
      expect((await call("198.51.100.7")).statusCode).toBe(200);
      expect((await call("2001:db8::1")).statusCode).toBe(200);
      expect((await call("2001:db8::2")).statusCode).toBe(200);
      expect((await call("2001:db8::3")).statusCode).toBe(429);
      now.t += 7500;
      expect((await call()).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it("neither counts nor labels exempt requests", async () => {
    const app = await limitedApp({ t: 0 });
    try {
      for (let i = 0; i < 4; i++) {
        const res = await app.inject({
          method: "GET",
          url: "/x",
          remoteAddress: "203.0.113.9",
          headers: { "x-exempt": "1" },
        });
        expect(res.statusCode).toBe(200);
        expect(res.headers["x-ratelimit-limit"]).toBeUndefined();
      }
      expect((await app.inject({ method: "GET", url: "/x", remoteAddress: "203.0.113.9" })).headers).toMatchObject({
        "x-ratelimit-remaining": "1",
      });
    } finally {
      await app.close();
    }
  });

  it("counts a caller whose requests fail authentication, so key guessing is limited too", async () => {
    const t = await testApp({
      config: {
        rateLimit: { max: 2, windowMs: 60_000, exemptLoopback: true },
        apiKeys: [{ key: "k".repeat(32), right: "decide" }],
      },
    });
    try {
      const call = (key: string) =>
        t.app.inject({
          method: "POST",
          url: "/access/v1/evaluation",
          payload: ALICE_READ,
          remoteAddress: "203.0.113.9",
          headers: { authorization: `Bearer ${key}` },
        });
      expect((await call("wrong")).statusCode).toBe(401);
      expect((await call("wrong")).statusCode).toBe(401);
      expect((await call("k".repeat(32))).statusCode).toBe(429);
    } finally {
      await t.close();
    }
  });
});
