import { describe, expect, it } from "vitest";
import { staleAuthenticationDetector as detector } from "../../src/detectors/stale-authentication.js";
import { MemoryStateStore } from "../../src/state/memory.js";
import { runStep } from "./harness.js";
import { access, T0 } from "./people-requests.js";

const nowSeconds = T0 / 1000;

function check(authTime: number | undefined, params = {}) {
  return runStep(detector, new MemoryStateStore(), {
    request: access("alice", authTime === undefined ? {} : { session: { id: "s1", auth_time: authTime } }),
    now: T0,
    params,
  });
}

describe("stale_authentication", () => {
  it("flags an authentication older than max_auth_age_seconds, with its age", async () => {
    const r = await check(nowSeconds - 50_000);
    expect(r.finding).toMatchObject({ code: "stale_authentication", severity: "low", points: 20 });
    expect(r.finding?.evidence).toEqual({
      age_seconds: 50_000,
      max_auth_age_seconds: 43_200,
      auth_time: nowSeconds - 50_000,
    });
    expect((await check(nowSeconds - 100_000)).finding?.severity).toBe("medium");
  });

  it("is silent at or under the limit, for a future auth_time and without one", async () => {
    expect((await check(nowSeconds - 43_200)).finding).toBeUndefined();
    expect((await check(nowSeconds - 60)).finding).toBeUndefined();
    expect((await check(nowSeconds + 300)).finding).toBeUndefined();
    expect((await check(undefined)).finding).toBeUndefined();
  });

  it("takes the limit from the policy", async () => {
    const r = await check(nowSeconds - 900, { max_auth_age_seconds: 600 });
    expect(r.finding?.evidence).toMatchObject({ age_seconds: 900, max_auth_age_seconds: 600 });
  });
});
