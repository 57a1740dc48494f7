import { describe, expect, it } from "vitest";
import { tokenAgeDetector as detector } from "../../src/detectors/token-age.js";
import type { AccessRequest, TokenContext } from "../../src/model/request.js";
import { MemoryStateStore } from "../../src/state/memory.js";
import { runStep } from "./harness.js";

const NOW = Date.parse("2026-11-20T10:00:00Z");
const NOW_S = NOW / 1000;

function request(token: TokenContext | undefined): AccessRequest {
  return {
    subject: { type: "service", id: "billing" },
    action: { name: "read" },
    resource: { type: "api", id: "/invoices" },
    ...(token ? { context: { token } } : {}),
  };
}

async function run(token: TokenContext | undefined, params = {}) {
  return runStep(detector, new MemoryStateStore(), { request: request(token), now: NOW, params });
}

describe("token_age", () => {
  it("flags a token older than the allowed age, with its age as evidence", async () => {
    const r = await run({ iat: NOW_S - 90_000 });
    expect(r.finding?.code).toBe("token_age");
    expect(r.finding?.severity).toBe("medium");
    expect(r.finding?.points).toBe(30);
    expect(r.finding?.evidence).toMatchObject({ age_seconds: 90_000, max_age_seconds: 86_400, iat: NOW_S - 90_000 });
  });

  it("flags an expired token as token_expired, worse than an old one", async () => {
    const r = await run({ iat: NOW_S - 90_000, exp: NOW_S - 3600 });
    expect(r.finding?.code).toBe("token_expired");
    expect(r.finding?.severity).toBe("high");
    expect(r.finding?.points).toBe(60);
    expect(r.finding?.evidence).toMatchObject({ expired_seconds_ago: 3600, exp: NOW_S - 3600 });
  });

  it("flags a token issued in the future beyond the leeway", async () => {
    const r = await run({ iat: NOW_S + 600 });
    expect(r.finding?.code).toBe("token_issued_in_future");
    expect(r.finding?.severity).toBe("low");
  });

  it("is silent for a fresh token and within the clock-skew leeway", async () => {
    expect((await run({ iat: NOW_S - 300, exp: NOW_S + 3300 })).finding).toBeUndefined();
    expect((await run({ iat: NOW_S + 30, exp: NOW_S - 30 })).finding).toBeUndefined();
    expect((await run({ iat: NOW_S - 86_400 - 30 })).finding).toBeUndefined();
  });

  it("honours a policy's max_age_seconds", async () => {
    const r = await run({ iat: NOW_S - 7200 }, { max_age_seconds: 3600, points: 25 });
    expect(r.finding?.code).toBe("token_age");
    expect(r.finding?.points).toBe(25);
    expect(r.finding?.evidence.max_age_seconds).toBe(3600);
  });

  it("does not apply without usable times, and never learns", async () => {
    expect((await run(undefined)).applies).toBe(false);
    expect((await run({ jti: "x" })).applies).toBe(false);
    expect((await run({ iat: "yesterday" as unknown as number })).applies).toBe(false);
    expect((await run({ iat: Number.NaN })).applies).toBe(false);
    const r = await run({ exp: NOW_S + 60 });
    expect(r.applies).toBe(true);
    expect(r.finding).toBeUndefined();
    expect(r.learn).toEqual([]);
    expect(r.observe).toEqual([]);
  });
});
